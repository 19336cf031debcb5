"""Each CallSession primitive against the fake FreeSWITCH, through the real server."""

from __future__ import annotations

import time

import gevent
import pytest
from django.db import connection

from callcontrol.session import CallerHungUp, CommandTimeout, UnknownTenant
from tests.callcontrol.helpers import finish, sendmsgs
from tests.conftest import make_account


def run(harness, app_name, fn, *, setup=None, **call_kwargs):
    """Run ``fn(session)`` as the app of one fake call; returns (call, results)."""
    results = harness.results

    @harness.app(app_name)
    def app(session):
        try:
            results["value"] = fn(session)
        except Exception as exc:
            results["error"] = exc
            results["error_at"] = time.monotonic()
            raise

    call = harness.call(app_name, **call_kwargs)
    if setup:
        setup(call)
    return call, results




def test_handshake_and_channel_data(harness):
    call, results = run(harness, "h", lambda s: (dict(s.variables), dict(s.channel), s.domain, s.destination),
                        variables={"tenant_note": "a b%c"}, destination="7000")
    finish(harness, call)
    variables, channel, domain, destination = results["value"]
    assert [c.line for c in call.commands][:3] == ["connect", "myevents", "linger"]
    assert channel["Unique-ID"] == call.uuid and channel["Control"] == "full"
    assert domain == "acme.example.net" and destination == "7000"
    assert variables["switchboard_app"] == "h" and variables["tenant_note"] == "a b%c"
    assert variables["effective_caller_id_name"] == "Acme 1001"
    # The app returned with the call up: the server hangs it up, then says exit.
    assert sendmsgs(call) == [("hangup", None, None, "NORMAL_CLEARING")]
    assert call.commands[-1].line == "exit"


def test_answer_play_set_record_hangup(harness):
    def app(s):
        s.answer()
        played = s.play("ivr/ivr-welcome.wav")
        s.set("cc_test", "one two")
        recorded = s.record("/tmp/x.wav", 30)
        s.hangup("USER_BUSY")
        return played, recorded, s.variables["cc_test"]

    call, results = run(harness, "p", app)
    finish(harness, call)
    played, recorded, value = results["value"]
    assert played.response == "FILE PLAYED" and played.variables["playback_ms"] == "10"
    assert recorded.variables["record_ms"] == "50"
    assert value == "one two"
    assert sendmsgs(call) == [
        ("execute", "answer", None, None), ("execute", "playback", "ivr/ivr-welcome.wav", None),
        ("execute", "set", "cc_test=one two", None), ("execute", "record", "/tmp/x.wav 30 200 3", None),
        ("hangup", None, None, "USER_BUSY"),
    ]
    for command in call.commands:
        if command.headers.get("call-command") == "execute":
            assert command.headers["event-lock"] == "true" and len(command.headers["Event-UUID"]) == 36
    assert call.hangup_cause == "USER_BUSY"


def test_collect_returns_the_digits(harness):
    def app(s):
        s.answer()
        first = s.collect(1, 4, timeout=2, terminators="#", prompt="ivr/ivr-enter.wav")
        second = s.collect(2, 2, timeout=0.2)
        return first, second

    def press(call):
        call.wait_for_app("play_and_get_digits")
        call.press("42#")

    call, results = run(harness, "c", app, setup=press)
    finish(harness, call)
    assert results["value"] == ("42", "")  # the second timed out without digits
    args = [a for _, name, a, _ in sendmsgs(call) if name == "play_and_get_digits"]
    # The regex is anchored: FreeSWITCH's match searches (switch_regex_match).
    assert args[0] == r"1 4 1 2000 # ivr/ivr-enter.wav silence_stream://250 cc_digits ^(?:\d+)$ 2000"


# How play_and_get_digits ends (switch_ivr_read, switch_play_and_get_digits), what the
# fake answers accordingly, and what collect() makes of it.
@pytest.mark.parametrize(("keys", "min_digits", "max_digits", "expected", "read_result", "variable"), [
    ("12#", 1, 4, "12", "success", "12"),      # the terminator
    ("1234", 1, 4, "1234", "success", "1234"),  # max digits reached
    ("12", 1, 4, "12", "timeout", "12"),        # the caller stops: the digit timeout (defect 1)
    ("1", 1, 6, "1", "timeout", "1"),           # an attendant key without #
    ("", 1, 4, "", "failure", None),            # no key at all: below min_digits
    ("1#", 2, 4, "", "failure", "1"),           # too few keys: FreeSWITCH keeps them, we do not
    ("1", 2, 4, "", "failure", "1"),            # too few, then the timeout
    ("12*", 1, 3, "", "success", None),         # not the regex (whole entry): moved to _invalid
    ("", 0, 4, "", "timeout", None),            # nothing, and nothing needed
    ("#", 0, 4, "", "success", None),           # only the terminator
])
def test_collect_reads_every_end_of_play_and_get_digits(harness, keys, min_digits, max_digits, expected,
                                                        read_result, variable):
    def app(s):
        s.answer()
        return s.collect(min_digits, max_digits, timeout=1, terminators="#", digit_timeout=1)

    def press(call):
        call.wait_for_app("play_and_get_digits")
        call.press(keys)

    call, results = run(harness, "c", app, setup=press)
    finish(harness, call, timeout=5)
    assert results["value"] == expected
    assert call.channel_variables.get("read_result") == read_result
    assert call.channel_variables.get("cc_digits") == variable
    if keys == "12*":
        assert call.channel_variables["cc_digits_invalid"] == "12*"
    # The invalid prompt follows every try that gave no valid entry.
    assert call.apps == ["answer", "play_and_get_digits"]


def test_collect_after_a_prompt_freeswitch_cannot_play(harness):
    """switch_ivr_play_file fails: no keys are waited for, read_result stays unset."""
    def app(s):
        s.answer()
        return s.collect(1, 4, timeout=5, prompt="ivr/missing.wav")

    def missing(call):
        call.missing_files.add("ivr/missing.wav")

    started = time.monotonic()
    call, results = run(harness, "c", app, setup=missing)
    finish(harness, call)
    assert results["value"] == "" and "read_result" not in call.channel_variables
    assert time.monotonic() - started < 2


def test_collect_tries_again_itself_and_plays_the_invalid_prompt(harness):
    def app(s):
        s.answer()
        return s.collect(2, 4, timeout=1, tries=2, invalid_prompt="ivr/invalid.wav")

    def press(call):
        call.wait_for_app("play_and_get_digits")
        call.press("5#")  # too short: the invalid prompt, then the second try
        gevent.sleep(0.3)
        call.press("55")

    call, results = run(harness, "c", app, setup=press)
    finish(harness, call, timeout=6)
    assert results["value"] == "55" and call.channel_variables["read_result"] == "timeout"


def test_collect_rejects_arguments_that_would_shift_the_others(harness):
    call, results = run(harness, "c", lambda s: s.collect(1, 2, 1, prompt="my prompt.wav"))
    finish(harness, call)
    assert isinstance(results["error"], ValueError)
    assert call.hangup_cause == "NORMAL_TEMPORARY_FAILURE"


def test_bridge_failure_and_success(harness):
    def app(s):
        failed = s.bridge(["user/1002@acme.example.net"], timeout=20)
        harness.calls[0].bridge_outcome = "SUCCESS"
        connected = s.bridge(["user/1002@acme.example.net", "user/1003@acme.example.net"], timeout=15)
        return failed, connected

    call, results = run(harness, "b", app)
    finish(harness, call)
    failed, connected = results["value"]
    assert (failed.connected, failed.cause) == (False, "USER_NOT_REGISTERED")
    assert (connected.connected, connected.cause) == (True, "SUCCESS")
    bridges = [a for _, name, a, _ in sendmsgs(call) if name == "bridge"]
    assert bridges == ["{leg_timeout=20}user/1002@acme.example.net",
                       "{leg_timeout=15}user/1002@acme.example.net,user/1003@acme.example.net"]
    # Once, before the first bridge: a failed bridge returns instead of ending the call.
    assert [a for _, name, a, _ in sendmsgs(call) if name == "set"] == ["continue_on_fail=true"]


@pytest.mark.parametrize("cause", ["ALLOTTED_TIMEOUT", "USER_BUSY", "CALL_REJECTED", "USER_NOT_REGISTERED",
                                   "NORMAL_TEMPORARY_FAILURE", "NO_ANSWER"])
def test_a_failed_bridge_returns_to_the_app_whatever_the_cause(harness, cause):
    """Issue 12 defect 2: a leg_timeout ends unanswered legs with ALLOTTED_TIMEOUT, after
    which FreeSWITCH hangs the caller up unless continue_on_fail allows it."""
    def app(s):
        harness.calls[0].bridge_outcome = cause
        result = s.bridge("user/1002@acme.example.net", timeout=1)
        s.play("ivr/ivr-not_available.wav")
        return result

    call, results = run(harness, "b", app)
    finish(harness, call)
    assert (results["value"].connected, results["value"].cause) == (False, cause)
    assert call.apps == ["set", "bridge", "playback"] and call.hangup_cause == "NORMAL_CLEARING"


def test_a_bridge_keeps_the_caller_when_the_dialplan_set_hangup_after_bridge(harness):
    def app(s):
        harness.calls[0].bridge_outcome = "SUCCESS"
        result = s.bridge("user/1002@acme.example.net", timeout=5)
        s.play("ivr/ivr-thank_you.wav")
        return result

    call, results = run(harness, "b", app,
                        variables={"hangup_after_bridge": "true", "continue_on_fail": "true"})
    finish(harness, call)
    assert results["value"].connected
    assert [a for _, name, a, _ in sendmsgs(call) if name == "set"] == ["hangup_after_bridge=false"]
    assert call.apps == ["set", "bridge", "playback"]


# The fake follows FreeSWITCH where the session's preparation matters: without it the
# caller is gone after these bridges.
@pytest.mark.parametrize(("variables", "cause", "hung_up"), [
    ({}, "ALLOTTED_TIMEOUT", True),
    ({}, "USER_BUSY", True),
    ({}, "NO_ANSWER", False),                                  # always a reason to go on
    ({"continue_on_fail": "true"}, "ALLOTTED_TIMEOUT", False),
    ({"continue_on_fail": "false"}, "NO_ANSWER", True),
    ({"continue_on_fail": "USER_BUSY,NO_ANSWER"}, "USER_BUSY", False),
    ({"continue_on_fail": "USER_BUSY,NO_ANSWER"}, "ALLOTTED_TIMEOUT", True),
    ({"failure_causes": "USER_BUSY"}, "ALLOTTED_TIMEOUT", False),
    ({"hangup_after_bridge": "true"}, "SUCCESS", True),
    ({}, "SUCCESS", False),
])
def test_fake_ends_the_call_after_a_bridge_as_freeswitch_does(harness, variables, cause, hung_up):
    def app(s):
        harness.calls[0].bridge_outcome = cause
        s.execute("bridge", "user/1002@acme.example.net", timeout=5, extend_on="CHANNEL_BRIDGE", extend_by=5)
        s.play("ivr/ivr-thank_you.wav")

    call, results = run(harness, "b", app, variables=variables)
    finish(harness, call)
    if hung_up:
        expected = "NORMAL_CLEARING" if cause == "SUCCESS" else cause
        assert isinstance(results["error"], CallerHungUp) and results["error"].cause == expected
        assert call.apps == ["bridge"]
    else:
        assert "error" not in results and call.apps == ["bridge", "playback"]


def test_a_bridged_call_outlives_the_ring_timeout(harness):
    def app(s):
        harness.calls[0].bridge_outcome = "SUCCESS"
        harness.calls[0].bridge_talk_seconds = 1.5
        # Waits 1 s for an answer, then for as long as the conversation lasts.
        return s.bridge("user/1002@acme.example.net", timeout=0.5, ring_grace=0.5)

    call, results = run(harness, "b", app)
    finish(harness, call, 5)
    assert results["value"].connected


def test_transfer_lets_go_without_resume(harness):
    """``resume`` would make FreeSWITCH reset the transferred channel when our ``exit``
    closes the socket (mod_event_socket.c, listener_run ``done:``), cancelling whatever
    the dialplan started meanwhile (CallSession.transfer)."""
    call, _ = run(harness, "t", lambda s: s.transfer("1001"))
    finish(harness, call)
    lines = [c.line for c in call.commands]
    assert lines[3:] == ["sendmsg", "exit"]
    assert sendmsgs(call) == [("execute", "transfer", "1001 XML acme.example.net", None)]
    assert not call.hung_up


def test_next_dtmf_outside_collect(harness):
    def app(s):
        s.answer()
        return s.next_dtmf(2), s.next_dtmf(0.1)

    call, results = run(harness, "d", app, setup=lambda c: (c.wait_for_app("answer"), c.press("7")))
    finish(harness, call)
    assert results["value"] == ("7", None)


def test_same_application_name_correlates_by_application_uuid(harness):
    """greenswitch would take any playback completion for the one it waits on."""
    def playback(call, execution):
        # A completion of another playback (not ours: unknown Application-UUID) first.
        from tests.fakes.freeswitch_outbound import Execution

        stray = Execution("playback", execution.arg, "00000000-0000-4000-8000-000000000000", True,
                          gevent.event.Event())
        call._complete(stray, "STRAY")
        gevent.sleep(0.1)
        return f"FILE PLAYED {execution.arg}", {}

    def app(s):
        return [s.play(p).response for p in ("one.wav", "two.wav", "one.wav")]

    call, results = run(harness, "u", app, setup=lambda c: c.behaviours.update(playback=playback))
    finish(harness, call)
    assert results["value"] == ["FILE PLAYED one.wav", "FILE PLAYED two.wav", "FILE PLAYED one.wav"]


def test_a_completion_that_never_comes_times_out(harness):
    def app(s):
        started = time.monotonic()
        try:
            s.play("ivr/stuck.wav", timeout=0.3)
        except CommandTimeout:
            return time.monotonic() - started

    call, results = run(harness, "x", app, setup=lambda c: c.hold.add("playback"))
    finish(harness, call)
    assert 0.3 <= results["value"] < 1.0
    assert sendmsgs(call)[-1] == ("hangup", None, None, "NORMAL_CLEARING")


def test_uncaught_timeout_ends_the_call_with_a_failure_cause(harness):
    call, _ = run(harness, "x", lambda s: s.play("ivr/stuck.wav", timeout=0.2),
                  setup=lambda c: c.hold.add("playback"))
    finish(harness, call)
    assert call.hangup_cause == "NORMAL_TEMPORARY_FAILURE"


@pytest.mark.parametrize("app_name", ["playback", "play_and_get_digits"])
def test_caller_hangs_up_while_blocked(harness, app_name):
    def app(s):
        s.answer()
        if app_name == "playback":
            s.play("ivr/long.wav")
        else:
            s.collect(1, 4, timeout=30, prompt="ivr/long.wav")

    call, results = run(harness, "h", app, setup=lambda c: c.hold.add("playback"))
    call.wait_for_app(app_name)
    gevent.sleep(0.05)
    hung_up_at = time.monotonic()
    call.hangup()
    finish(harness, call)
    error = results["error"]
    assert isinstance(error, CallerHungUp) and error.reason == "hangup" and error.cause == "NORMAL_CLEARING"
    assert results["error_at"] - hung_up_at < 1.0
    # No command after the hangup but exit (the lingering socket is released).
    assert [c.line for c in call.commands][-1] == "exit"
    assert sendmsgs(call)[-1][0] == "execute"


def test_caller_hangs_up_before_answer(harness):
    def app(s):
        gevent.sleep(0.2)
        s.answer()

    def hang_up_early(call):
        with gevent.Timeout(2):
            while len(call.commands) < 3:
                gevent.sleep(0.01)
        call.hangup("ORIGINATOR_CANCEL")

    call, results = run(harness, "e", app, setup=hang_up_early)
    finish(harness, call)
    assert isinstance(results["error"], CallerHungUp) and results["error"].cause == "ORIGINATOR_CANCEL"
    assert sendmsgs(call) == []


def test_socket_drop_while_blocked(harness):
    call, results = run(harness, "d", lambda s: s.play("ivr/long.wav"),
                        setup=lambda c: c.hold.add("playback"))
    call.wait_for_app("playback")
    dropped_at = time.monotonic()
    call.drop()
    harness.wait_idle()
    assert isinstance(results["error"], CallerHungUp) and results["error"].reason == "eof"
    assert results["error_at"] - dropped_at < 1.0


def test_socket_without_full_has_no_linger(harness):
    """Capture c: linger is refused; FreeSWITCH closes right after the hangup."""
    call, results = run(harness, "n", lambda s: (s.answer(), s.play("ivr/long.wav")), full=False,
                        setup=lambda c: c.hold.add("playback"))
    call.wait_for_app("playback")
    call.hangup()
    finish(harness, call)
    assert isinstance(results["error"], CallerHungUp)
    assert call.lingering is None and call.closed_by == "fake"


def test_tenant_from_domain_and_its_schema(harness, tree):
    account = make_account(tree.user("master_admin"), tree.master, "Gamma")

    def app(s):
        tenant = s.tenant()
        with s.tenant_schema() as inside:
            schema = connection.schema_name
            with pytest.raises(RuntimeError):
                s.answer()
        return tenant.account.pk, inside is tenant, schema, connection.schema_name

    call, results = run(harness, "t", app, domain="gamma.example.net")
    finish(harness, call)
    assert results["value"] == (account.pk, True, account.schema_name, "public")


def test_unknown_tenant(harness, db):
    call, results = run(harness, "t", lambda s: s.tenant(), domain="nobody.example.net")
    finish(harness, call)
    assert isinstance(results["error"], UnknownTenant)


def test_variables_follow_every_event_even_through_a_kept_reference(harness):
    """Channel variables from events are decoded, and the dict an app keeps is the live
    one (events are folded in when it is read, as if each had been copied in)."""
    def playback(call, execution):
        return "FILE PLAYED", {"cc_from_fs": "x y%z:1", "playback_ms": "7"}

    def app(s):
        kept = s.variables
        before = ("cc_from_fs" in kept, "playback_ms" in kept)
        s.answer()
        played = s.play("ivr/ivr-welcome.wav")
        return before, kept is s.variables, kept.get("cc_from_fs"), kept["playback_ms"], played

    call, results = run(harness, "v", app, setup=lambda c: c.behaviours.update(playback=playback))
    finish(harness, call)
    before, same, from_fs, playback_ms, played = results["value"]
    assert before == (False, False) and same
    assert (from_fs, playback_ms) == ("x y%z:1", "7")
    assert played.variables["cc_from_fs"] == "x y%z:1"
    assert played.variables["domain_name"] == "acme.example.net"
    assert played.variables == {k[9:]: v for k, v in played.event.event.items() if k.startswith("variable_")}
