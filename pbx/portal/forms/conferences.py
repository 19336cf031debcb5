from __future__ import annotations

from pbx.models import ConferenceRoom
from pbx.portal.forms.base import PortalForm


class ConferenceRoomForm(PortalForm):
    class Meta:
        model = ConferenceRoom
        fields = ("number", "name", "participant_pin", "moderator_pin", "max_members", "locked",
                  "wait_for_moderator", "music_while_alone", "enter_exit_sounds", "announce_count", "record")
