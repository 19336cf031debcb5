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
    assert args[0] == r"1 4 1 2000 # ivr/ivr-enter.wav silence_stream://250 cc_digits \d+ 2000"


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


def test_a_bridged_call_outlives_the_ring_timeout(harness):
    def app(s):
        harness.calls[0].bridge_outcome = "SUCCESS"
        harness.calls[0].bridge_talk_seconds = 1.5
        # Waits 1 s for an answer, then for as long as the conversation lasts.
        return s.bridge("user/1002@acme.example.net", timeout=0.5, ring_grace=0.5)

    call, results = run(harness, "b", app)
    finish(harness, call, 5)
    assert results["value"].connected


def test_transfer_resumes_and_lets_go(harness):
    call, _ = run(harness, "t", lambda s: s.transfer("1001"))
    finish(harness, call)
    lines = [c.line for c in call.commands]
    assert lines[3:] == ["resume", "sendmsg", "exit"]
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
