"""Conference rooms: the three generic pages and nothing of their own."""

from __future__ import annotations

from django import forms

from pbx.actions.conferences import (
    do_create_conference_room,
    do_delete_conference_room,
    do_update_conference_room,
)
from pbx.filtersets import ConferenceRoomFilterSet
from pbx.models import ConferenceRoom
from pbx.portal.forms.conferences import ConferenceRoomForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView
from switchboard.views import Column


class _ConferenceRoomPages:
    model = ConferenceRoom
    verbose_name = "conference room"
    verbose_name_plural = "conference rooms"
    list_url_name = "portal:conference-room-list"
    create_url_name = "portal:conference-room-create"
    edit_url_name = "portal:conference-room-edit"
    delete_url_name = "portal:conference-room-delete"


class ConferenceRoomListView(_ConferenceRoomPages, PortalListView):
    filterset_class = ConferenceRoomFilterSet
    columns = (
        Column("number", "Number", link=True),
        Column("name", "Name"),
        Column("participant_pin", "PIN", render=lambda room: "Yes" if room.participant_pin else "—"),
        Column("max_members", "At most"),
        Column("locked", "Locked", render=lambda room: "Yes" if room.locked else "—"),
    )

    def get_queryset(self):
        return ConferenceRoom.objects.order_by("number")


class ConferenceRoomEditView(_ConferenceRoomPages, PortalEditView):
    form_class = ConferenceRoomForm

    def create(self, form: forms.Form) -> ConferenceRoom:
        return do_create_conference_room(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: ConferenceRoom, form: forms.Form) -> ConferenceRoom:
        return do_update_conference_room(self.identity.account, obj, **self.writer,
                                         **self.changed_values(form))


class ConferenceRoomDeleteView(_ConferenceRoomPages, PortalDeleteView):
    def delete(self, obj: ConferenceRoom) -> None:
        do_delete_conference_room(self.identity.account, obj, **self.writer)
