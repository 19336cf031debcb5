"""An extension's forwards, do not disturb and emergency callback number; deleting an
extension something routes to."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_ivr,
    do_create_ring_group,
    do_delete_extension,
    do_set_follow_me,
    do_set_ivr_options,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.destinations import describe
from pbx.models import Extension, VoicemailBox
from pbx.numbers import do_route_number
from tenants.models import PhoneNumber
from tests.pbx.routing_helpers import exists, extension, last_event, padded, ref, refused, reload


def test_forwards_and_dnd_are_saved_and_audited(tree, committed):
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    do_update_extension(tree.c1, alice, forward_busy=True, forward_busy_to=ref(bob),
                        forward_no_answer=True, forward_no_answer_to="external:+12125550100",
                        do_not_disturb=True)
    stored = reload(tree.c1, alice)
    assert (stored.forward_busy, stored.forward_busy_to) == (True, ref(bob))
    assert stored.forward_no_answer_to == "external:+12125550100"
    assert stored.do_not_disturb is True
    event = last_event(tree.c1, "extension.update")
    assert event.details["fields"] == ["do_not_disturb", "forward_busy", "forward_busy_to",
                                       "forward_no_answer", "forward_no_answer_to"]


def test_a_forward_switched_on_needs_a_destination(tree):
    alice = extension(tree.c1, "1001")
    with refused("forward_busy_to") as error:
        do_update_extension(tree.c1, alice, forward_busy=True)
    assert error.messages == ["Choose where calls while busy go, or switch this forward off."]
    # Switched off, the destination may stay empty (or keep where it pointed).
    do_update_extension(tree.c1, alice, forward_busy=False, forward_all=False)


def test_a_forward_switched_off_keeps_its_destination(tree):
    alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
    do_update_extension(tree.c1, alice, forward_all=True, forward_all_to=ref(bob))
    do_update_extension(tree.c1, alice, forward_all=False)
    assert reload(tree.c1, alice).forward_all_to == ref(bob)


@pytest.mark.parametrize(("value", "message"), [
    ("directory", "Choose one of: extension, voicemail box, ring group, auto attendant (ivr), "
                  "external number, conference room, schedule, call queue, hang up."),
    ("extension:999", "That extension no longer exists."),
    ("external:4165550100", "Write the external number in E.164 form (+…)."),
    ("nonsense", "Choose where calls go."),
])
def test_forward_destinations_are_checked(tree, value, message):
    alice = extension(tree.c1, "1001")
    with refused("forward_no_answer_to") as error:
        do_update_extension(tree.c1, alice, forward_no_answer=True, forward_no_answer_to=value)
    assert message in error.messages


def test_an_extension_cannot_forward_to_itself(tree):
    alice = extension(tree.c1, "1001")
    with refused("forward_all_to") as error:
        do_update_extension(tree.c1, alice, forward_all=True, forward_all_to=ref(alice))
    assert error.messages == ["An extension cannot send calls to itself."]


def test_forwarding_in_a_circle_is_refused_naming_the_cycle(tree):
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    do_update_extension(tree.c1, alice, forward_all=True, forward_all_to=ref(bob))
    with refused("forward_no_answer_to") as error:
        do_update_extension(tree.c1, bob, forward_no_answer=True, forward_no_answer_to=ref(alice))
    assert error.messages == ["This would send calls round in a loop: Extension 1002 Bob → "
                              "Extension 1001 Alice → Extension 1002 Bob."]
    assert reload(tree.c1, bob).forward_no_answer is False
    # A forward that is off does not count: the same destination, switched off, is fine.
    do_update_extension(tree.c1, bob, forward_no_answer_to=ref(alice))


def test_a_loop_through_a_ring_group_fallback_is_refused(tree):
    alice = extension(tree.c1, "1001", "Alice")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(alice))
    with refused("forward_all_to") as error:
        do_update_extension(tree.c1, alice, forward_all=True, forward_all_to=ref(group))
    assert "Extension 1001 Alice → Ring group 2000 Sales → Extension 1001 Alice" in error.messages[0]


def test_a_loop_through_the_follow_me_fallback_is_refused(tree):
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    do_set_follow_me(tree.c1, alice, fallback=ref(bob), steps=[{"targets": [ref(alice)]}])
    with refused("forward_busy_to") as error:
        do_update_extension(tree.c1, bob, forward_busy=True, forward_busy_to=ref(alice))
    assert "Extension 1002 Bob → Extension 1001 Alice → Extension 1002 Bob" in error.messages[0]


def test_the_emergency_callback_number_is_one_of_the_accounts_numbers(tree):
    alice = extension(tree.c1, "1001")
    PhoneNumber.objects.create(e164="+14165550100", account=tree.c1)
    PhoneNumber.objects.create(e164="+16045550199", account=tree.c2)
    with refused("emergency_callback_number") as error:
        do_update_extension(tree.c1, alice, emergency_callback_number="+16045550199")
    assert error.messages == ["+16045550199 is not a number of C1: choose one of the account's numbers."]
    with refused("emergency_callback_number"):
        do_update_extension(tree.c1, alice, emergency_callback_number="4165550100")
    do_update_extension(tree.c1, alice, emergency_callback_number="+14165550100",
                        emergency_address="1 Main St, Toronto ON")
    stored = reload(tree.c1, alice)
    assert (stored.emergency_callback_number, stored.emergency_address) == (
        "+14165550100", "1 Main St, Toronto ON")


def test_the_outbound_caller_id_is_one_of_the_accounts_numbers(tree):
    """From the attacker's side: tenant C1 cannot present C2's number."""
    alice = extension(tree.c1, "1001")
    PhoneNumber.objects.create(e164="+14165550100", account=tree.c1)
    PhoneNumber.objects.create(e164="+16045550199", account=tree.c2)
    with refused("outbound_caller_id_number"):
        do_update_extension(tree.c1, alice, outbound_caller_id_number="+16045550199")
    with refused("outbound_caller_id_number"):
        extension(tree.c1, "1003", outbound_caller_id_number="+16045550199")
    do_update_extension(tree.c1, alice, outbound_caller_id_number="+14165550100")
    assert reload(tree.c1, alice).outbound_caller_id_number == "+14165550100"


def test_forwards_can_be_set_when_the_extension_is_created(tree):
    bob = extension(tree.c1, "1002")
    alice = extension(tree.c1, "1001", forward_unregistered=True, forward_unregistered_to=ref(bob))
    assert reload(tree.c1, alice).forward_unregistered_to == ref(bob)
    with refused("forward_unregistered_to"):
        extension(tree.c1, "1003", forward_unregistered=True)
    with schema_context(tree.c1.schema_name):
        assert not Extension.objects.filter(number="1003").exists()


# --- deleting ---------------------------------------------------------------------------


def test_deleting_an_extension_a_route_uses_is_refused_with_the_users(tree):
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    do_set_ring_group_members(tree.c1, group, [(ref(alice), None, True)])
    do_update_extension(tree.c1, bob, forward_busy=True, forward_busy_to=ref(alice))
    did = PhoneNumber.objects.create(e164="+14165550100", account=tree.c1)
    do_route_number(tree.c1, did, route=ref(alice))
    with refused() as error:
        do_delete_extension(tree.c1, alice)
    assert error.messages == [
        "Extension 1001 Alice is still used by: Extension 1002 Bob (forward busy to); "
        "Ring group 2000 Sales (destination); Phone number +14165550100. Change those routes first."]
    assert exists(tree.c1, alice)


def test_deleting_an_extension_whose_box_a_route_uses_is_refused(tree):
    alice = extension(tree.c1, "1001", "Alice")
    ivr = do_create_ivr(tree.c1, name="Main")
    with schema_context(tree.c1.schema_name):
        box = VoicemailBox.objects.get(extension=alice)
    do_set_ivr_options(tree.c1, ivr, {"1": ref(box)})
    with refused() as error:
        do_delete_extension(tree.c1, alice)
    assert error.messages == ["Voicemail box 1001 Alice is still used by: Auto attendant (IVR) Main "
                              "key 1 (destination). Change those routes first."]


def test_an_extensions_own_routes_do_not_keep_it(tree, committed):
    alice = extension(tree.c1, "1001", "Alice")
    with schema_context(tree.c1.schema_name):
        box = VoicemailBox.objects.get(extension=alice)
    do_update_extension(tree.c1, alice, forward_no_answer=True, forward_no_answer_to=ref(box))
    do_set_follow_me(tree.c1, alice, fallback=ref(box), steps=[{"targets": [ref(alice)]}])
    with committed():
        do_delete_extension(tree.c1, alice)
    assert not exists(tree.c1, alice)
    assert last_event(tree.c1, "extension.delete").details == {"number": "1001"}


# --- tenant isolation -------------------------------------------------------------------


def test_another_tenants_extension_cannot_be_a_forward_destination(tree):
    padded(tree.c1, 3)  # A's rows get pks that B does not have
    victim = extension(tree.c1, "1001", "Victim")
    attacker = extension(tree.c2, "1001", "Attacker")
    with schema_context(tree.c2.schema_name):
        assert not Extension.objects.filter(pk=victim.pk).exists()
    with refused("forward_all_to") as error:
        do_update_extension(tree.c2, attacker, forward_all=True, forward_all_to=ref(victim))
    assert error.messages == ["That extension no longer exists."]
    assert "Victim" not in " ".join(error.messages)


def test_a_pk_both_tenants_have_means_the_callers_own_row(tree):
    padded(tree.c2, 1)
    mine = extension(tree.c2, "1002", "Mine")
    theirs = extension(tree.c1, "1001", "Theirs")
    assert mine.pk != theirs.pk
    same_pk_in_b = ref(theirs)  # B's pk-1 row is B's own padding extension
    caller = extension(tree.c2, "1003")
    do_update_extension(tree.c2, caller, forward_all=True, forward_all_to=same_pk_in_b)
    with schema_context(tree.c2.schema_name):
        assert describe(reload(tree.c2, caller).forward_all_to) == "Extension 7000 User 7000"


def test_an_attacker_cannot_update_another_tenants_extension_through_its_own_account(tree):
    padded(tree.c1, 2)
    victim = extension(tree.c1, "1001", "Victim")
    with pytest.raises(Extension.DoesNotExist):
        do_update_extension(tree.c2, victim, do_not_disturb=True)
    with pytest.raises(Extension.DoesNotExist):
        do_delete_extension(tree.c2, victim)
    assert reload(tree.c1, victim).do_not_disturb is False


def test_a_validation_error_rolls_the_whole_update_back(tree):
    alice = extension(tree.c1, "1001")
    with pytest.raises(ValidationError):
        do_update_extension(tree.c1, alice, name="Renamed", forward_all=True)
    assert reload(tree.c1, alice).name == "User 1001"
