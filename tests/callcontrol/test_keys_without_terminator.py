"""Issue 12 defect 1, app by app: every prompt that collects digits takes keys the caller
ends by stopping (no ``#``). FreeSWITCH then ends ``play_and_get_digits`` by the digit
timeout with ``read_result=timeout`` and the keys in the variable (switch_ivr_read); the
fake does the same, so these failed while collect() wanted ``success``.

The apps' waits are shortened to FreeSWITCH's least (1 s: mod_dptools raises anything
shorter) so each test takes a second or two."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from callcontrol.apps import conference as conference_app
from callcontrol.apps import directory as directory_app
from callcontrol.apps import forwarding as forwarding_app
from callcontrol.apps import privacy as privacy_app
from pbx.actions import do_create_conference_room, do_create_ivr, do_set_ivr_options
from pbx.models import Extension
from tests.callcontrol.helpers import finish, sendmsgs
from tests.callcontrol.pbx_apps import (
    args_of,
    dial,
    pbx,  # noqa: F401 (fixture)
    transfer_of,
    wait_for_nth,
)
from tests.pbx.routing_helpers import extension, ref


@pytest.fixture
def quick(monkeypatch):
    for module, name in ((directory_app, "SEARCH_TIMEOUT"), (directory_app, "KEY_TIMEOUT"),
                         (forwarding_app, "DIGIT_TIMEOUT"), (privacy_app, "DIGIT_TIMEOUT"),
                         (conference_app, "PIN_TIMEOUT"), (conference_app, "ROOM_TIMEOUT")):
        monkeypatch.setattr(module, name, 1)


def read_results(call) -> list[str]:
    """read_result as each play_and_get_digits of the call leaves it, filled in as they
    end (the next one unsets it again when it starts)."""
    results: list[str] = []

    def play_and_get_digits(fake, execution):
        outcome = fake._play_and_get_digits(execution)
        results.append(fake.channel_variables.get("read_result", ""))
        return outcome

    call.behaviours["play_and_get_digits"] = play_and_get_digits
    return results


@pytest.mark.parametrize("keys", ["1", "1001"])
def test_attendant_key_or_extension_without_pound(pbx, tree, keys):  # noqa: F811
    c1 = tree.c1
    alice = extension(c1, "1001", "Alice")
    menu = do_create_ivr(c1, name="Main", attendant_timeout=1, digit_timeout=1, max_attempts=1,
                         dial_by_extension=True)
    do_set_ivr_options(c1, menu, {"1": ref(alice)})
    call = dial(pbx, c1, "ivr", menu.pk)
    results = read_results(call)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press(keys)
    finish(pbx, call, timeout=5)
    assert results == ["timeout"]
    assert transfer_of(call) == (f"~{ref(alice)}" if keys == "1" else f"~extension:{alice.pk}")


def test_directory_letters_without_pound(pbx, tree, quick):  # noqa: F811
    c1 = tree.c1
    smith = extension(c1, "1001", "Alice Smith")
    call = dial(pbx, c1, "directory")
    results = read_results(call)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("76")  # S-M, then the caller waits
    wait_for_nth(call, "play_and_get_digits", 2)  # Alice Smith is offered: 1 to connect
    call.press("1")
    finish(pbx, call, timeout=5)
    assert results == ["timeout", "success"]  # one key of one: max digits
    assert args_of(call, "say") == ["en number iterated 1001"]
    assert transfer_of(call) == f"~extension:{smith.pk}"


def test_forwarding_number_without_pound(pbx, tree, quick):  # noqa: F811
    alice, bob = extension(tree.c1, "1001", "Alice"), extension(tree.c1, "1002", "Bob")
    call = dial(pbx, tree.c1, "forwarding", f"no_answer:{alice.pk}")
    results = read_results(call)
    call.wait_for_app("play_and_get_digits")
    call.press("1002")
    finish(pbx, call, timeout=5)
    assert results == ["timeout"]
    assert args_of(call, "playback") == [forwarding_app.FORWARD_SET]
    with schema_context(tree.c1.schema_name):
        alice = Extension.objects.get(pk=alice.pk)
    assert (alice.forward_no_answer, alice.forward_no_answer_to) == (True, ref(bob))


def test_privacy_number_without_pound(pbx, quick):  # noqa: F811
    pbx.apps["privacy"] = privacy_app.privacy_screening
    call = pbx.call("privacy", variables={"switchboard_ref": "14165550100"})
    results = read_results(call)
    call.wait_for_app("play_and_get_digits")
    call.press("4165550123")
    finish(pbx, call, timeout=5)
    assert results == ["timeout"]
    sent = sendmsgs(call)
    assert ("execute", "set", "effective_caller_id_number=4165550123", None) in sent
    assert sent[-1] == ("execute", "transfer", "14165550100 XML public", None)


def test_conference_hub_room_and_pin_without_pound(pbx, tree, quick):  # noqa: F811
    # The PIN prompt takes as many digits as the longest PIN: the shorter one ends by the timeout.
    do_create_conference_room(tree.c1, number="3001", name="Board", participant_pin="1234",
                              moderator_pin="987654", announce_count=False)
    call = dial(pbx, tree.c1, "conference_hub")
    call.hold.add("conference")
    results = read_results(call)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("3001")
    wait_for_nth(call, "play_and_get_digits", 2)  # the room's PIN
    call.press("1234")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert results == ["timeout", "timeout"]
    assert args_of(call, "conference")[0].startswith("3001-c1.example.net@default")
