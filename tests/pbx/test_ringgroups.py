"""Ring groups: settings, members, fallback, pickup code, deleting."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_ivr,
    do_create_ring_group,
    do_delete_ring_group,
    do_set_ivr_options,
    do_set_ring_group_members,
    do_update_ivr,
    do_update_ring_group,
)
from pbx.models import MohGroup, RingGroup, RingGroupMember
from pbx.signals import tenant_config_changed
from tests.pbx.routing_helpers import exists, extension, last_event, padded, ref, refused, reload


def members_of(account, group) -> list[tuple[str, int | None, bool]]:
    with schema_context(account.schema_name):
        return [(m.destination, m.ring_seconds, m.enabled)
                for m in RingGroupMember.objects.filter(group_id=group.pk)]


def test_create_a_ring_group_and_fill_it(tree):
    alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
    seen = []

    def receiver(sender, account, **kw):
        seen.append(account.pk)

    tenant_config_changed.connect(receiver)
    try:
        group = do_create_ring_group(tree.c1, number="2000", name="Sales", strategy="in_order",
                                     ring_seconds=20, fallback=ref(alice), pickup_code="*82000")
        do_set_ring_group_members(tree.c1, group, [
            (ref(bob), 15, True), ("external:+14165550100", None, True), (ref(alice), None, False)])
    finally:
        tenant_config_changed.disconnect(receiver)
    assert seen == [tree.c1.pk, tree.c1.pk]
    assert members_of(tree.c1, group) == [
        (ref(bob), 15, True), ("external:+14165550100", None, True), (ref(alice), None, False)]
    assert last_event(tree.c1, "ring_group.create").details == {"number": "2000", "name": "Sales"}
    assert last_event(tree.c1, "ring_group.members").details["members"] == [
        ref(bob), "external:+14165550100", ref(alice)]


def test_setting_members_replaces_them_in_order(tree):
    alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    do_set_ring_group_members(tree.c1, group, [(ref(alice), None, True), (ref(bob), None, True)])
    do_set_ring_group_members(tree.c1, group, [(ref(bob), None, True), (ref(alice), 30, True)])
    assert members_of(tree.c1, group) == [(ref(bob), None, True), (ref(alice), 30, True)]
    do_set_ring_group_members(tree.c1, group, [])
    assert members_of(tree.c1, group) == []


@pytest.mark.parametrize(("member", "message"), [
    ("voicemail:1", "Member 1: Choose one of: extension, external number."),
    ("extension:999", "Member 1: That extension no longer exists."),
    ("", "Member 1: Choose an extension or an external number."),
])
def test_a_member_is_an_extension_or_an_outside_number(tree, member, message):
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    with refused("members") as error:
        do_set_ring_group_members(tree.c1, group, [(member, None, True)])
    assert error.messages == [message]


def test_member_errors_name_each_member_and_nothing_is_saved(tree):
    alice = extension(tree.c1, "1001")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    do_set_ring_group_members(tree.c1, group, [(ref(alice), None, True)])
    with refused("members") as error:
        do_set_ring_group_members(tree.c1, group, [
            (ref(alice), None, True), (ref(alice), None, True), ("external:+14165550100", 2, True)])
    assert error.messages == ["Member 2: This member is already in the group.",
                              "Member 3: Ensure this value is greater than or equal to 5."]
    assert members_of(tree.c1, group) == [(ref(alice), None, True)]


def test_the_fallback_is_checked(tree):
    with refused("fallback") as error:
        do_create_ring_group(tree.c1, number="2000", name="Sales", fallback="ivr:42")
    assert error.messages == ["That auto attendant (ivr) no longer exists."]


def test_a_fallback_to_itself_is_a_loop(tree):
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    with refused("fallback") as error:
        do_update_ring_group(tree.c1, group, fallback=ref(group))
    assert error.messages == ["This would send calls round in a loop: Ring group 2000 Sales → "
                              "Ring group 2000 Sales."]


def test_ivr_exit_to_a_group_whose_fallback_is_the_same_ivr_is_refused(tree):
    ivr = do_create_ivr(tree.c1, name="Main", number="3000")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(ivr))
    with refused("exit_destination") as error:
        do_update_ivr(tree.c1, ivr, exit_destination=ref(group))
    assert error.messages == ["This would send calls round in a loop: Auto attendant (IVR) 3000 Main → "
                              "Ring group 2000 Sales → Auto attendant (IVR) 3000 Main."]
    assert reload(tree.c1, ivr).exit_destination == ""


def test_pickup_code(tree):
    extension(tree.c1, "1001")
    do_create_ring_group(tree.c1, number="2000", name="Sales", pickup_code="*82000")
    with refused("pickup_code") as error:
        do_create_ring_group(tree.c1, number="2001", name="Support", pickup_code="*82000")
    assert error.messages == ["Another ring group already uses *82000."]
    with refused("pickup_code") as error:
        do_create_ring_group(tree.c1, number="2001", name="Support", pickup_code="*81001")
    assert error.messages == ["*81001 is the pickup code of Extension 1001 User 1001."]
    for bad in ("*9123", "82001", "*8", "*8abc", "*81234567"):
        with refused("pickup_code"):
            do_create_ring_group(tree.c1, number="2001", name="Support", pickup_code=bad)
    support = do_create_ring_group(tree.c1, number="2001", name="Support", pickup_code="*85")
    assert reload(tree.c1, support).pickup_code == "*85"


def test_update_and_audit(tree):
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    do_update_ring_group(tree.c1, group, name="Sales team", repeat=2, caller_id_name_prefix="Sales: ")
    stored = reload(tree.c1, group)
    assert (stored.name, stored.repeat, stored.caller_id_name_prefix) == ("Sales team", 2, "Sales: ")
    assert last_event(tree.c1, "ring_group.update").details == {
        "number": "2000", "fields": ["caller_id_name_prefix", "name", "repeat"]}
    with refused("repeat"):
        do_update_ring_group(tree.c1, group, repeat=9)
    with refused("strategy"):
        do_update_ring_group(tree.c1, group, strategy="loudest")
    with refused("color"):
        do_update_ring_group(tree.c1, group, color="red")


def test_deleting_a_group_a_route_uses_is_refused(tree):
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    ivr = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, ivr, {"2": ref(group)})
    with refused() as error:
        do_delete_ring_group(tree.c1, group)
    assert error.messages == ["Ring group 2000 Sales is still used by: Auto attendant (IVR) Main key 2 "
                              "(destination). Change those routes first."]
    do_set_ivr_options(tree.c1, ivr, {})
    do_delete_ring_group(tree.c1, group)
    assert not exists(tree.c1, group)
    assert last_event(tree.c1, "ring_group.delete").details == {"number": "2000", "name": "Sales"}


def test_hold_music_must_be_the_tenants_own(tree):
    with schema_context(tree.c1.schema_name):
        MohGroup.objects.create(name="pad-1")
        MohGroup.objects.create(name="pad-2")
        theirs = MohGroup.objects.create(name="victim-music")
    with refused("moh_group") as error:
        do_create_ring_group(tree.c2, number="2000", name="Sales", moh_group=theirs)
    assert error.messages == ["That moh group does not exist."]
    with schema_context(tree.c2.schema_name):
        mine = MohGroup.objects.create(name="ours")
    group = do_create_ring_group(tree.c2, number="2000", name="Sales", moh_group=mine.pk)
    assert reload(tree.c2, group).moh_group_id == mine.pk


def test_another_tenants_extension_cannot_be_a_member_or_fallback(tree):
    padded(tree.c1, 3)
    victim = extension(tree.c1, "1001", "Victim")
    group = do_create_ring_group(tree.c2, number="2000", name="Sales")
    with refused("members") as error:
        do_set_ring_group_members(tree.c2, group, [(ref(victim), None, True)])
    assert error.messages == ["Member 1: That extension no longer exists."]
    with refused("fallback"):
        do_update_ring_group(tree.c2, group, fallback=ref(victim))
    victims_group = do_create_ring_group(tree.c1, number="2000", name="Victim group")
    padded_group = do_create_ring_group(tree.c1, number="2001", name="Victim group 2")
    assert padded_group.pk != group.pk
    with pytest.raises(RingGroup.DoesNotExist):
        do_update_ring_group(tree.c2, padded_group, name="Owned")
    with pytest.raises(RingGroup.DoesNotExist):
        do_delete_ring_group(tree.c2, padded_group)
    assert reload(tree.c1, padded_group).name == "Victim group 2"
    assert exists(tree.c1, victims_group)
