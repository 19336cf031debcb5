"""Follow-me: steps replaced at once, targets, limits, fallback and loops."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pbx.actions import do_create_ring_group, do_set_follow_me, do_update_extension
from pbx.models import FollowMe, FollowMeStep, MohGroup, Schedule
from tests.pbx.routing_helpers import extension, last_event, padded, ref, refused


def steps_of(account, ext) -> list[tuple[int, bool, list[str]]]:
    with schema_context(account.schema_name):
        return [(step.ring_seconds, step.confirm, [t.destination for t in step.targets.all()])
                for step in FollowMeStep.objects.filter(follow_me__extension_id=ext.pk)]


def test_the_seed_example_desk_and_mobile_then_home_then_voicemail(tree):
    alice = extension(tree.c1, "1001", "Alice")
    with schema_context(tree.c1.schema_name):
        hours = Schedule.objects.create(name="Office hours")
        music = MohGroup.objects.create(name="Jazz")
    do_set_follow_me(tree.c1, alice, record_name=True, offer_voicemail=True, active_hours=hours,
                     moh_group=music, steps=[
                         {"ring_seconds": 25, "confirm": False,
                          "targets": [ref(alice), "external:+12125550100"]},
                         {"ring_seconds": 25, "targets": ["external:+12125550101"]},
                     ])
    assert steps_of(tree.c1, alice) == [(25, False, [ref(alice), "external:+12125550100"]),
                                        (25, True, ["external:+12125550101"])]
    with schema_context(tree.c1.schema_name):
        stored = FollowMe.objects.get(extension_id=alice.pk)
    assert (stored.enabled, stored.record_name, stored.offer_voicemail, stored.ignore_busy) == (
        True, True, True, False)
    assert (stored.active_hours_id, stored.moh_group_id, stored.fallback) == (hours.pk, music.pk, "")
    assert last_event(tree.c1, "follow_me.set").details == {
        "extension": "1001", "enabled": True, "fallback": "",
        "steps": [[ref(alice), "external:+12125550100"], ["external:+12125550101"]]}


def test_setting_it_again_replaces_the_steps(tree):
    alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
    do_set_follow_me(tree.c1, alice, steps=[{"targets": [ref(alice)]}, {"targets": [ref(bob)]}])
    do_set_follow_me(tree.c1, alice, steps=[{"ring_seconds": 40, "targets": [ref(bob)]}])
    assert steps_of(tree.c1, alice) == [(40, True, [ref(bob)])]
    with schema_context(tree.c1.schema_name):
        assert FollowMe.objects.filter(extension_id=alice.pk).count() == 1
    do_set_follow_me(tree.c1, alice, enabled=False)
    assert steps_of(tree.c1, alice) == []


def test_step_errors_are_named_and_nothing_changes(tree):
    alice = extension(tree.c1, "1001")
    do_set_follow_me(tree.c1, alice, steps=[{"targets": [ref(alice)]}])
    with refused("steps") as error:
        do_set_follow_me(tree.c1, alice, steps=[
            {"targets": [ref(alice), "voicemail:1"]},
            {"ring_seconds": 2, "targets": ["external:+12125550100", "external:+12125550100"]},
            {"targets": []},
            {"targets": ["external:+1212555010" + str(n) for n in range(6)]},
            {"ring": 5, "targets": [ref(alice)]},
        ])
    assert error.messages == [
        "Step 1, target 2: Choose one of: extension, external number.",
        "Step 2: Ensure this value is greater than or equal to 5.",
        "Step 2, target 2: already rung in this step.",
        "Step 3: choose at least one extension or number to ring.",
        "Step 4: at most 5 targets ring at once.",
        "Step 5: unknown setting ring.",
    ]
    assert steps_of(tree.c1, alice) == [(20, True, [ref(alice)])]


def test_at_most_ten_steps_and_at_least_one_when_on(tree):
    alice = extension(tree.c1, "1001")
    with refused("steps") as error:
        do_set_follow_me(tree.c1, alice, steps=[{"targets": [ref(alice)]}] * 11)
    assert error.messages == ["Follow-me has at most 10 steps."]
    with refused("steps") as error:
        do_set_follow_me(tree.c1, alice, steps=[])
    assert error.messages == ["Add at least one step, or switch follow-me off."]
    do_set_follow_me(tree.c1, alice, steps=[{"targets": [ref(alice)]}] * 10)
    assert len(steps_of(tree.c1, alice)) == 10


def test_the_fallback_is_checked_and_may_not_loop(tree):
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    steps = [{"targets": [ref(alice)]}]
    with refused("fallback") as error:
        do_set_follow_me(tree.c1, alice, fallback=ref(alice), steps=steps)
    assert error.messages == ["Follow-me of an extension cannot send calls to itself."]
    with refused("fallback"):
        do_set_follow_me(tree.c1, alice, fallback="conference_hub", steps=steps)
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(alice))
    with refused("fallback") as error:
        do_set_follow_me(tree.c1, alice, fallback=ref(group), steps=steps)
    assert error.messages == ["This would send calls round in a loop: Extension 1001 Alice → "
                              "Ring group 2000 Sales → Extension 1001 Alice."]
    do_update_extension(tree.c1, bob, forward_all=True, forward_all_to=ref(alice))
    with refused("fallback"):
        do_set_follow_me(tree.c1, alice, fallback=ref(bob), steps=steps)
    # Switched off, its fallback routes no call: no loop.
    do_set_follow_me(tree.c1, alice, enabled=False, fallback=ref(bob), steps=steps)


def test_another_tenants_objects_are_out_of_reach(tree):
    padded(tree.c1, 3)
    victim = extension(tree.c1, "1001", "Victim")
    with schema_context(tree.c1.schema_name):
        for n in range(3):
            Schedule.objects.create(name=f"pad {n}")
        victim_hours = Schedule.objects.create(name="Victim hours")
    attacker = extension(tree.c2, "1001", "Attacker")
    with refused("steps") as error:
        do_set_follow_me(tree.c2, attacker, steps=[{"targets": [ref(victim)]}])
    assert error.messages == ["Step 1, target 1: That extension no longer exists."]
    with refused("fallback"):
        do_set_follow_me(tree.c2, attacker, fallback=ref(victim), steps=[{"targets": [ref(attacker)]}])
    with refused("active_hours"):
        do_set_follow_me(tree.c2, attacker, active_hours=victim_hours,
                         steps=[{"targets": [ref(attacker)]}])
    with pytest.raises(type(victim).DoesNotExist):
        do_set_follow_me(tree.c2, victim, steps=[{"targets": ["external:+12125550100"]}])
    with schema_context(tree.c1.schema_name):
        assert not FollowMe.objects.exists()
