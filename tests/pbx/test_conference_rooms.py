"""Conference rooms: PINs, limits, deleting; PINs never in the audit log."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_conference_room,
    do_create_ivr,
    do_delete_conference_room,
    do_set_ivr_options,
    do_update_conference_room,
)
from pbx.models import ConferenceRoom
from tenants.models import AuditEvent
from tests.pbx.routing_helpers import exists, last_event, ref, refused, reload


def test_create_and_update_a_room(tree):
    room = do_create_conference_room(tree.c1, number="3000", name="Board", participant_pin="4826",
                                     moderator_pin="97531", max_members=10, wait_for_moderator=True)
    stored = reload(tree.c1, room)
    assert (stored.participant_pin, stored.moderator_pin, stored.max_members) == ("4826", "97531", 10)
    do_update_conference_room(tree.c1, room, locked=True, participant_pin="55123")
    stored = reload(tree.c1, room)
    assert (stored.locked, stored.participant_pin) == (True, "55123")
    assert last_event(tree.c1, "conference.update").details == {
        "number": "3000", "fields": ["locked", "participant_pin"]}


def test_pins_never_reach_the_audit_log(tree):
    room = do_create_conference_room(tree.c1, number="3000", name="Board", participant_pin="4826",
                                     moderator_pin="97531")
    do_update_conference_room(tree.c1, room, participant_pin="55123")
    logged = " ".join(str(e.details) for e in AuditEvent.objects.filter(account=tree.c1))
    assert "conference.create" in set(AuditEvent.objects.values_list("action", flat=True))
    for pin in ("4826", "97531", "55123"):
        assert pin not in logged


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"participant_pin": "12a4"}, "participant_pin", "A PIN has 4 to 10 digits."),
    ({"participant_pin": "123"}, "participant_pin", "A PIN has 4 to 10 digits."),
    ({"moderator_pin": "12345678901"}, "moderator_pin", None),
    ({"participant_pin": "4826", "moderator_pin": "4826"}, "moderator_pin",
     "Use a PIN different from the participants'."),
    ({"wait_for_moderator": True}, "wait_for_moderator", "Set a moderator PIN first."),
    ({"max_members": 1}, "max_members", "Ensure this value is greater than or equal to 2."),
    ({"max_members": 501}, "max_members", "Ensure this value is less than or equal to 500."),
    ({"number": "12"}, "number", "An extension number has 3 to 6 digits."),
])
def test_rules_are_checked_by_field(tree, fields, field, message):
    fields = {"number": "3000", **fields}
    with refused(field) as error:
        do_create_conference_room(tree.c1, name="Board", **fields)
    if message:
        assert message in error.messages
    with schema_context(tree.c1.schema_name):
        assert not ConferenceRoom.objects.exists()


def test_deleting_a_room_a_route_uses_is_refused(tree):
    room = do_create_conference_room(tree.c1, number="3000", name="Board")
    ivr = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, ivr, {"3": ref(room)})
    with refused() as error:
        do_delete_conference_room(tree.c1, room)
    assert error.messages == ["Conference room 3000 Board is still used by: Auto attendant (IVR) Main "
                              "key 3 (destination). Change those routes first."]
    do_set_ivr_options(tree.c1, ivr, {})
    do_delete_conference_room(tree.c1, room)
    assert not exists(tree.c1, room)
    assert last_event(tree.c1, "conference.delete").details == {"number": "3000", "name": "Board"}


def test_another_tenants_room_is_out_of_reach(tree):
    do_create_conference_room(tree.c1, number="3000", name="Pad")
    victim = do_create_conference_room(tree.c1, number="3001", name="Victim", participant_pin="4826")
    mine = do_create_conference_room(tree.c2, number="3000", name="Mine")
    assert victim.pk != mine.pk
    with pytest.raises(ConferenceRoom.DoesNotExist):
        do_update_conference_room(tree.c2, victim, participant_pin="11223")
    with pytest.raises(ConferenceRoom.DoesNotExist):
        do_delete_conference_room(tree.c2, victim)
    assert reload(tree.c1, victim).participant_pin == "4826"
