"""The auto attendant app, driven by the fake FreeSWITCH against real tenant menus."""

from __future__ import annotations

import pytest

from callcontrol.apps.common import GOODBYE, INVALID_ENTRY, not_in_service_prompt
from callcontrol.apps.ivr import DEFAULT_GREETING, DEFAULT_TIMEOUT_PROMPT
from pbx.actions import (
    do_create_conference_room,
    do_create_ivr,
    do_delete_ivr,
    do_set_ivr_options,
)
from pbx.models import VoicemailBox
from pbx.routing import TRANSFER_PROOF_VARIABLE, transfer_proof
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    apps_of,
    args_of,
    dial,
    domain_of,
    executed,
    hangups,
    in_schema,
    pbx,  # noqa: F401 (fixture)
    ready_prompt,
    transfer_of,
    wait_for_nth,
)
from tests.pbx.routing_helpers import extension, ref


@pytest.fixture
def office(tree):
    """c1's menu "Main": every kind of key, and a second menu "Sales" behind *."""
    c1 = tree.c1
    alice = extension(c1, "1001", "Alice Smith")
    shy = extension(c1, "1002", "Shy Person", disallow_dial_by_extension=True)
    room = do_create_conference_room(c1, number="3000", name="Board")
    sales = do_create_ivr(c1, name="Sales", greeting=ready_prompt(c1, "sales-greeting"),
                          attendant_timeout=1, digit_timeout=1)
    main = do_create_ivr(c1, name="Main", attendant_timeout=1, digit_timeout=1, max_attempts=3)
    box = in_schema(c1, lambda: VoicemailBox.objects.get(extension=alice))
    options = {
        "1": ref(alice), "2": f"voicemail:{box.pk}", "3": ref(room), "4": "conference_hub",
        "5": "external:+14165550123", "0": "directory", "*": ref(sales), "#": "check_voicemail",
        "9": "hangup",
    }
    do_set_ivr_options(c1, main, options)
    return type("Office", (), dict(c1=c1, alice=alice, shy=shy, main=main, sales=sales,
                                    options=options))


def menu_prompt(call, n: int = 1) -> str:
    """The prompt argument of the n-th play_and_get_digits."""
    return wait_for_nth(call, "play_and_get_digits", n).arg.split(" ")[5]


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5", "0", "*", "#"])
def test_each_key_goes_to_its_destination(pbx, office, key):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    assert menu_prompt(call) == DEFAULT_GREETING
    call.press(key)
    finish(pbx, call, timeout=5)
    destination = office.options[key]
    assert transfer_of(call) == f"~{destination}"
    assert args_of(call, "transfer") == [f"~{destination} XML {domain_of(office.c1)}"]
    # The transfer is proven ours (pbx.routing.transfer_proof): the dialplan plans a ``~``
    # number only with it, so a phone cannot dial or REFER one.
    assert apps_of(call) == ["answer", "play_and_get_digits", "set", "transfer"]
    assert args_of(call, "set") == [
        f"{TRANSFER_PROOF_VARIABLE}={transfer_proof(domain_of(office.c1), f'~{destination}')}"]
    # FreeSWITCH keeps the call after we let go: no hangup from us, and no ``resume``
    # (it would reset the transferred call when our socket closes: CallSession.transfer).
    assert hangups(call) == [] and not any(c.line == "resume" for c in call.commands)


def test_menu_arguments_follow_the_settings(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    # min max tries timeout terminators prompt invalid var regex digit_timeout
    args = wait_for_nth(call, "play_and_get_digits", 1).arg.split(" ")
    assert args[:5] == ["1", "6", "1", "1000", "none"] and args[8:] == ["^(?:[0-9*#]+)$", "1000"]
    call.hangup()
    finish(pbx, call)


def test_a_hangup_key_ends_the_call(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("9")
    finish(pbx, call, timeout=5)
    assert hangups(call) == ["NORMAL_CLEARING"] and transfer_of(call) == ""


def test_invalid_keys_and_timeouts_then_goodbye(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("7")  # no such key
    wait_for_nth(call, "play_and_get_digits", 2)  # then silence: a timeout
    wait_for_nth(call, "play_and_get_digits", 3)
    call.press("8")
    finish(pbx, call, timeout=8)
    assert executed(call) == [
        ("answer", ""), ("play_and_get_digits", executed(call)[1][1]), ("playback", INVALID_ENTRY),
        ("play_and_get_digits", executed(call)[3][1]), ("playback", DEFAULT_TIMEOUT_PROMPT),
        ("play_and_get_digits", executed(call)[5][1]), ("playback", INVALID_ENTRY),
        ("playback", GOODBYE),
    ]
    assert hangups(call) == ["NORMAL_CLEARING"]


def test_exit_destination_after_the_last_attempt(pbx, office):  # noqa: F811
    from pbx.actions import do_update_ivr

    invalid = ready_prompt(office.c1, "invalid")
    timeout = ready_prompt(office.c1, "timeout")
    do_update_ivr(office.c1, office.main, max_attempts=2, exit_destination=ref(office.alice),
                  invalid_prompt=invalid, timeout_prompt=timeout)
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("6")
    finish(pbx, call, timeout=8)  # the second attempt times out
    plays = args_of(call, "playback")
    assert plays[0].endswith(f"{office.c1.schema_name}/prompt/invalid.8000.wav")
    assert plays[1].endswith(f"{office.c1.schema_name}/prompt/timeout.8000.wav")
    assert transfer_of(call) == f"~{ref(office.alice)}"


def test_dial_by_extension(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("1001")
    finish(pbx, call, timeout=5)
    assert transfer_of(call) == f"~extension:{office.alice.pk}"


def test_dial_by_extension_ended_by_pound(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("1001#")
    finish(pbx, call, timeout=5)
    assert transfer_of(call) == f"~extension:{office.alice.pk}"


@pytest.mark.parametrize("digits", ["1002", "1009", "12"])
def test_extension_refusing_dial_by_extension_or_unknown_is_invalid(pbx, office, digits):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press(digits)
    wait_for_nth(call, "play_and_get_digits", 2)
    call.hangup()
    finish(pbx, call)
    assert ("playback", INVALID_ENTRY) in executed(call) and transfer_of(call) == ""


def test_menu_without_dial_by_extension_takes_one_key(pbx, office):  # noqa: F811
    from pbx.actions import do_update_ivr

    do_update_ivr(office.c1, office.main, dial_by_extension=False)
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    assert wait_for_nth(call, "play_and_get_digits", 1).arg.split(" ")[1] == "1"
    call.press("1001")  # only the first key counts
    finish(pbx, call, timeout=5)
    assert transfer_of(call) == f"~{ref(office.alice)}"


def test_nested_menu(pbx, office):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("*")
    finish(pbx, call, timeout=5)
    assert transfer_of(call) == f"~ivr:{office.sales.pk}"
    # The dialplan routes ~ivr:<pk> back into this app with the other menu.
    inner = dial(pbx, office.c1, "ivr", office.sales.pk)
    assert menu_prompt(inner).endswith(f"{office.c1.schema_name}/prompt/sales-greeting.8000.wav")
    inner.hangup()
    finish(pbx, inner)


@pytest.mark.parametrize("stage", ["greeting", "invalid prompt"])
def test_caller_hangs_up(pbx, office, stage):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", office.main.pk)
    if stage == "greeting":
        call.hold.add("play_and_get_digits")
        wait_for_nth(call, "play_and_get_digits", 1)
    else:
        wait_for_nth(call, "play_and_get_digits", 1)
        call.hold.add("playback")
        call.press("7")
        wait_for_nth(call, "playback", 1)
    call.hangup()
    finish(pbx, call)
    assert transfer_of(call) == "" and hangups(call) == []


# -- calls that lead nowhere ----------------------------------------------------------------


def not_in_service(call) -> bool:
    return (executed(call) == [("answer", ""), ("playback", not_in_service_prompt())]
            and hangups(call) == ["UNALLOCATED_NUMBER"])


@pytest.mark.parametrize("bad_ref", ["", "abc", "999999"])
def test_missing_or_bad_ref(pbx, office, bad_ref):  # noqa: F811
    call = dial(pbx, office.c1, "ivr", bad_ref)
    finish(pbx, call)
    assert not_in_service(call)


def test_deleted_menu(pbx, office):  # noqa: F811
    gone = do_create_ivr(office.c1, name="Old menu")
    do_delete_ivr(office.c1, gone)
    call = dial(pbx, office.c1, "ivr", gone.pk)
    finish(pbx, call)
    assert not_in_service(call)


def test_another_tenants_menu_is_not_reachable(pbx, tree, office):  # noqa: F811
    for n in range(3):  # pks beyond c1's, so the ref names nothing in c1
        do_create_ivr(tree.c2, name=f"Filler {n}")
    other = do_create_ivr(tree.c2, name="Theirs", greeting=ready_prompt(tree.c2, "secret"))
    from pbx.models import Ivr

    assert not in_schema(tree.c1, lambda: Ivr.objects.filter(pk=other.pk).exists())
    call = dial(pbx, tree.c1, "ivr", other.pk)
    finish(pbx, call)
    assert not_in_service(call)
    assert not any("secret" in arg for _, arg in executed(call))


def test_unknown_domain(pbx, db):  # noqa: F811
    call = dial(pbx, None, "ivr", 1, domain="nobody.example.net")
    finish(pbx, call)
    assert not_in_service(call)
