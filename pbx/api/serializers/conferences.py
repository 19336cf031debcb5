from __future__ import annotations

from pbx.actions.conferences import CONFERENCE_FIELDS
from pbx.models import ConferenceRoom
from switchboard.api.serializers import ActionSerializer


class ConferenceRoomSerializer(ActionSerializer):
    class Meta:
        model = ConferenceRoom
        fields = ["id", "number", *CONFERENCE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
