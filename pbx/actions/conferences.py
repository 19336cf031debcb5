"""Conference rooms. PINs are secrets: the audit log names the fields changed, never
their values."""

from __future__ import annotations

from pbx.actions.crud import CrudActions
from pbx.models import ConferenceRoom, DestinationKind, MohGroup
from pbx.signals import IndexScope
from tenants.models import Account, User

CONFERENCE_FIELDS = ("name", "participant_pin", "moderator_pin", "music_while_alone", "moh_group",
                     "enter_exit_sounds", "announce_count", "max_members", "locked",
                     "wait_for_moderator", "record")


class _ConferenceRooms(CrudActions[ConferenceRoom]):
    model = ConferenceRoom
    audit_name = "conference"
    index = IndexScope.NOTHING
    fields = (*CONFERENCE_FIELDS, "number")
    kind = DestinationKind.CONFERENCE
    numbered = True
    identity = ("number", "name")
    row_fields = {"moh_group": MohGroup}


_rooms = _ConferenceRooms()


def do_create_conference_room(account: Account, *, number: str, name: str,
                              actor: User | None = None, ip: str | None = None,
                              **fields) -> ConferenceRoom:
    return _rooms.create(account, number=number, name=name, actor=actor, ip=ip, **fields)


def do_update_conference_room(account: Account, room: ConferenceRoom, *, actor: User | None = None,
                              ip: str | None = None, **fields) -> ConferenceRoom:
    return _rooms.update(account, room, actor=actor, ip=ip, **fields)


def do_delete_conference_room(account: Account, room: ConferenceRoom, *,
                              actor: User | None = None, ip: str | None = None) -> None:
    _rooms.delete(account, room, actor=actor, ip=ip)
