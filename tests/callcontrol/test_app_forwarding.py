"""The forwarding and DND codes' app, driven by the fake FreeSWITCH against real tenant
extensions: the change goes through the admin's action (validation, loop refusal,
audit) and is confirmed; a refused one changes nothing and says so."""

from __future__ import annotations

from callcontrol.apps.common import not_in_service_prompt
from callcontrol.apps.forwarding import DND_OFF, DND_ON, ENTER_NUMBER, FORWARD_CANCELLED, FORWARD_SET, REFUSED
from pbx.actions import do_update_extension
from pbx.models import Extension
from tenants.models import AuditEvent
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    args_of,
    dial,
    hangups,
    in_schema,
    pbx,  # noqa: F401 (fixture)
)
from tests.pbx.routing_helpers import extension, last_event, ref, reload


def run(harness, account, code_ref: str, *, press: str = ""):
    call = dial(harness, account, "forwarding", code_ref)
    if press:
        call.wait_for_app("play_and_get_digits")
        call.press(press)
    finish(harness, call)
    return call


def test_forward_all_to_an_extension_is_saved_audited_and_confirmed(pbx, tree):  # noqa: F811
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    call = run(pbx, tree.c1, f"all:{alice.pk}:1002")
    assert args_of(call, "playback") == [FORWARD_SET] and hangups(call) == ["NORMAL_CLEARING"]
    alice = reload(tree.c1, alice)
    assert (alice.forward_all, alice.forward_all_to) == (True, ref(bob))
    event = last_event(tree.c1, "extension.update")
    assert event.details == {"number": "1001", "fields": ["forward_all", "forward_all_to"]}


def test_a_forward_to_an_outside_number_is_stored_in_e164(pbx, tree):  # noqa: F811
    alice = extension(tree.c1, "1001", "Alice")
    call = run(pbx, tree.c1, f"busy:{alice.pk}:2125550123")  # the account is in the US
    assert args_of(call, "playback") == [FORWARD_SET]
    alice = reload(tree.c1, alice)
    assert (alice.forward_busy, alice.forward_busy_to) == (True, "external:+12125550123")


def test_a_code_without_a_number_asks_for_it(pbx, tree):  # noqa: F811
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    call = run(pbx, tree.c1, f"no_answer:{alice.pk}", press="1002#")
    assert ENTER_NUMBER in args_of(call, "play_and_get_digits")[0]
    assert args_of(call, "playback") == [FORWARD_SET]
    alice = reload(tree.c1, alice)
    assert (alice.forward_no_answer, alice.forward_no_answer_to) == (True, ref(bob))


def test_refused_forwards_change_nothing_and_say_so(pbx, tree):  # noqa: F811
    """A loop (as the admin refuses it), an outside number an internal-only phone may
    not call, a number that is nothing: each plays the error and writes nothing."""
    alice = extension(tree.c1, "1001", "Alice")
    bob = extension(tree.c1, "1002", "Bob", call_permission="internal")
    do_update_extension(tree.c1, bob, forward_all=True, forward_all_to=ref(alice))
    events = AuditEvent.objects.filter(account=tree.c1).count()
    for caller, code_ref in ((alice, f"all:{alice.pk}:1002"), (bob, f"busy:{bob.pk}:4165550123"),
                             (alice, f"all:{alice.pk}:44123")):
        before = reload(tree.c1, caller)
        call = run(pbx, tree.c1, code_ref)
        assert args_of(call, "playback") == [REFUSED], code_ref
        after = reload(tree.c1, caller)
        assert (after.forward_all, after.forward_all_to, after.forward_busy, after.forward_busy_to) == (
            before.forward_all, before.forward_all_to, before.forward_busy, before.forward_busy_to)
    assert AuditEvent.objects.filter(account=tree.c1).count() == events


def test_off_codes_keep_the_destination_and_dnd_goes_on_and_off(pbx, tree):  # noqa: F811
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    do_update_extension(tree.c1, alice, forward_busy=True, forward_busy_to=ref(bob))
    call = run(pbx, tree.c1, f"busy_off:{alice.pk}")
    assert args_of(call, "playback") == [FORWARD_CANCELLED]
    alice = reload(tree.c1, alice)
    assert (alice.forward_busy, alice.forward_busy_to) == (False, ref(bob))
    for action, prompt, on in (("dnd_on", DND_ON, True), ("dnd_off", DND_OFF, False)):
        call = run(pbx, tree.c1, f"{action}:{alice.pk}")
        assert args_of(call, "playback") == [prompt]
        assert reload(tree.c1, alice).do_not_disturb is on


def test_another_tenants_caller_cannot_forward_to_our_extension(pbx, tree):  # noqa: F811
    """C2's extension dialing *71 + C1's 1003: the number is read in C2's plan, where it
    is nothing (too short to call out), so nothing changes; a pk of C1's in a C2 call
    finds no extension there."""
    extension(tree.c1, "1003", "Only in C1")
    eve = extension(tree.c2, "1001", "Eve")
    call = run(pbx, tree.c2, f"all:{eve.pk}:1003")
    assert args_of(call, "playback") == [REFUSED]
    assert reload(tree.c2, eve).forward_all_to == ""
    c1_only = extension(tree.c1, "1004", "Also only in C1")
    assert not in_schema(tree.c2, lambda: Extension.objects.filter(pk=c1_only.pk).exists())
    call = run(pbx, tree.c2, f"all:{c1_only.pk}:1001")
    assert args_of(call, "playback") == [not_in_service_prompt()]
    assert hangups(call) == ["UNALLOCATED_NUMBER"]


def test_malformed_refs_are_not_in_service(pbx, tree):  # noqa: F811
    alice = extension(tree.c1, "1001", "Alice")
    for code_ref in ("dance:1", "all:", f"all:{alice.pk}x:1002", ""):
        call = run(pbx, tree.c1, code_ref)
        assert args_of(call, "playback") == [not_in_service_prompt()], code_ref
        assert hangups(call) == ["UNALLOCATED_NUMBER"]
    assert reload(tree.c1, alice).forward_all_to == ""
