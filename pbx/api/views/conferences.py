"""Conference rooms (pbx.actions.conferences)."""

from __future__ import annotations

from pbx.actions.conferences import (
    do_create_conference_room,
    do_delete_conference_room,
    do_update_conference_room,
)
from pbx.api.serializers.conferences import ConferenceRoomSerializer
from pbx.filtersets import ConferenceRoomFilterSet
from pbx.models import ConferenceRoom
from switchboard.api.views import ObjectActions, ObjectViewSet


class ConferenceRoomViewSet(ObjectViewSet):
    queryset = ConferenceRoom.objects.all()
    serializer_class = ConferenceRoomSerializer
    filterset_class = ConferenceRoomFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(create=do_create_conference_room, update=do_update_conference_room,
                           delete=do_delete_conference_room)
