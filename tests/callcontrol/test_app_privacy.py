"""Privacy screening: callers without a ten-digit caller ID key one in."""

from __future__ import annotations

from callcontrol.apps.privacy import ENTER_NUMBER, INVALID, privacy_screening
from tests.callcontrol.helpers import finish, sendmsgs

DID = "14165550100"


def screened_call(harness, ref: str = DID):
    harness.apps["privacy"] = privacy_screening
    return harness.call("privacy", variables={"switchboard_ref": ref})


def test_a_ten_digit_number_lets_the_call_go_back_to_the_did(harness):
    call = screened_call(harness)
    call.wait_for_app("play_and_get_digits")
    call.press("4165550123#")
    finish(harness, call)
    sent = sendmsgs(call)
    assert ("execute", "set", "effective_caller_id_number=4165550123", None) in sent
    assert ("execute", "set", "switchboard_screened=true", None) in sent
    assert sent[-1] == ("execute", "transfer", f"{DID} XML public", None)
    prompts = [arg for _, app, arg, _ in sent if app == "play_and_get_digits"]
    assert len(prompts) == 1 and ENTER_NUMBER in prompts[0]


def test_three_short_answers_end_the_call(harness):
    call = screened_call(harness)
    for _ in range(3):
        call.wait_for_app("play_and_get_digits")
        call.press("555#")
    finish(harness, call)
    sent = sendmsgs(call)
    assert [arg for _, app, arg, _ in sent if app == "playback"].count(INVALID) == 3
    assert sent[-1] == ("hangup", None, None, "CALL_REJECTED")
    assert not any(app == "transfer" for _, app, _, _ in sent)


def test_a_missing_number_to_return_to_ends_the_call(harness):
    call = screened_call(harness, ref="")
    finish(harness, call)
    assert sendmsgs(call)[-1] == ("hangup", None, None, "UNALLOCATED_NUMBER")


def test_caller_hanging_up_while_asked_ends_quietly(harness):
    call = screened_call(harness)
    call.wait_for_app("play_and_get_digits")
    call.hangup()
    finish(harness, call)
    assert not any(app == "transfer" for _, app, _, _ in sendmsgs(call))
