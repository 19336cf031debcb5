"""Conference rooms. PINs are secrets: the audit log names the fields changed, never
their values."""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import refuse_if_used, row
from pbx.actions.common import changed, only
from pbx.models import ConferenceRoom, MohGroup
from pbx.numbering import refuse_taken
from tenants.actions import record
from tenants.models import Account, User

CONFERENCE_FIELDS = ("name", "participant_pin", "moderator_pin", "music_while_alone", "moh_group",
                     "enter_exit_sounds", "announce_count", "max_members", "locked",
                     "wait_for_moderator", "record")


def _apply(room: ConferenceRoom, fields: dict) -> None:
    for name, value in fields.items():
        if name == "moh_group":
            value = row(MohGroup, value, "moh_group")
        setattr(room, name, value)


@transaction.atomic
def do_create_conference_room(account: Account, *, number: str, name: str,
                              actor: User | None = None, **fields) -> ConferenceRoom:
    only(fields, CONFERENCE_FIELDS)
    with schema_context(account.schema_name):
        refuse_taken(number, account=account)
        room = ConferenceRoom(number=number, name=name)
        _apply(room, fields)
        room.full_clean()
        room.save()
    record(actor, account, "conference.create", number=number, name=name)
    changed(account)
    return room


@transaction.atomic
def do_update_conference_room(account: Account, room: ConferenceRoom, *, actor: User | None = None,
                              **fields) -> ConferenceRoom:
    only(fields, (*CONFERENCE_FIELDS, "number"))
    with schema_context(account.schema_name):
        room = ConferenceRoom.objects.select_for_update().get(pk=room.pk)
        if fields.get("number", room.number) != room.number:
            refuse_taken(fields["number"], exclude=room, account=account)
        _apply(room, fields)
        room.full_clean()
        room.save()
    record(actor, account, "conference.update", number=room.number, fields=sorted(fields))
    changed(account)
    return room


@transaction.atomic
def do_delete_conference_room(account: Account, room: ConferenceRoom, *,
                              actor: User | None = None) -> None:
    with schema_context(account.schema_name):
        room = ConferenceRoom.objects.select_for_update().get(pk=room.pk)
        refuse_if_used(room, account=account)
        number, name = room.number, room.name
        room.delete()
    record(actor, account, "conference.delete", number=number, name=name)
    changed(account)
