"""Follow-me on the real switch (issue 12, defect 2): a step nobody answers ends by its
``leg_timeout`` (ALLOTTED_TIMEOUT), which FreeSWITCH's bridge does not go on from by
itself; call control's ``bridge`` sets ``continue_on_fail`` so the next step, and after
the last one the fallback, still get the call."""

from __future__ import annotations

import time

import pytest

from pbx.actions import do_set_follow_me

pytestmark = pytest.mark.freeswitch

STEP_SECONDS = 5  # FollowMeStep.ring_seconds' minimum


def ringing_device(fs, customer, username: str):
    """A device of ``username`` that rings (180) and never answers."""
    device = fs.sip.recorder(answer=180)
    registered = fs.sip.register(username, customer.domain, customer.secret(username),
                                 contact_port=device.port)
    assert registered.final_status("REGISTER") == 200, registered.describe()
    return device


def callcontrol_log_with(fs, text: str, timeout: float = 3.0) -> str:
    """Call control's log once it holds ``text`` (it logs a call as it goes on or ends)."""
    deadline = time.monotonic() + timeout
    log = fs.node.callcontrol.log_since(0)
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = fs.node.callcontrol.log_since(0)
    return log


def caller_hung_up_by_timeout(fs) -> bool:
    return any("Hangup sofia/internal/1001@" in line and "ALLOTTED_TIMEOUT" in line
               for line in fs.log().splitlines())


def test_an_unanswered_follow_me_step_goes_on_to_the_next_step(fs):
    """1002's follow-me: step 1 rings 1005 (rings, never answers) for 5 s, step 2 rings
    1006, which answers. Before 98fc295 the caller was hung up with ALLOTTED_TIMEOUT
    after step 1 and 1006 never rang."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    desk = acme.extension("1002")
    first = acme.extension("1005")
    second = acme.extension("1006")
    do_set_follow_me(acme.account, desk, steps=[
        {"ring_seconds": STEP_SECONDS, "confirm": False, "targets": [f"extension:{first.pk}"]},
        {"ring_seconds": STEP_SECONDS, "confirm": False, "targets": [f"extension:{second.pk}"]}])
    unanswered = ringing_device(fs, acme, "1005")
    answering = fs.sip.phone("1006", "acme.example.net", acme.secret("1006"))

    started = time.monotonic()
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert time.monotonic() - started >= STEP_SECONDS  # step 1 rang its whole time first
    assert len(unanswered.invites()) == 1
    assert len(answering.invites()) == 1 and answering.answered() == 1
    log = callcontrol_log_with(fs, "step 1: ALLOTTED_TIMEOUT")
    assert "step 1: ALLOTTED_TIMEOUT" in log, log[-3000:]
    assert not caller_hung_up_by_timeout(fs)


def test_an_unanswered_last_step_sends_the_caller_to_the_extensions_voicemail(fs):
    """One step, nobody answers: the fallback (none set: 1002's voicemail box) answers."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    desk = acme.extension("1002")
    first = acme.extension("1005")
    do_set_follow_me(acme.account, desk, steps=[
        {"ring_seconds": STEP_SECONDS, "confirm": False, "targets": [f"extension:{first.pk}"]}])
    unanswered = ringing_device(fs, acme, "1005")

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=1000)

    assert call.final_status("INVITE") == 200, call.describe()  # answered by the voicemail box
    assert len(unanswered.invites()) == 1
    assert "voicemail(" in fs.log()
    log = callcontrol_log_with(fs, "step 1: ALLOTTED_TIMEOUT")
    assert "step 1: ALLOTTED_TIMEOUT" in log, log[-3000:]
    assert not caller_hung_up_by_timeout(fs)
