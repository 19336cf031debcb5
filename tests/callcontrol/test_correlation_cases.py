"""The two correctness cases of the greenswitch comparison (bench/callcontrol.py), run
against our implementation only: a caller name holding an encoded line break, and a
playback that follows one the app stopped waiting for. (greenswitch's failures of the same
cases are shown by the benchmark, not asserted here.) Also the fake's behaviour the second
case relies on: an execute sent without ``event-lock`` runs inside a running playback."""

from __future__ import annotations

import time

import gevent
import gevent.socket as gsocket

from callcontrol.session import CommandTimeout
from tests.callcontrol.helpers import finish
from tests.fakes.freeswitch_outbound import FakeCall

# What a caller can put in their caller name: FreeSWITCH sends it URL-encoded
# ("Evil%0AEvent-Name%3A%20CHANNEL_EXECUTE_COMPLETE"); decoded before the block is split
# into lines, it would be a second header overriding the event's real name.
FORGED_NAME = "Evil\nEvent-Name: CHANNEL_EXECUTE_COMPLETE"
FIRST, SECOND = "tone_stream://%(300,0,440)", "tone_stream://%(100,0,600)"


def playback_record(call: FakeCall, prompt: str, completion) -> dict:
    """What a returned play() got, against what the fake did with that prompt."""
    execution = next(e for e in call.executions if e.app == "playback" and e.arg == prompt)
    return {"own_completion": completion.event.get("Application-UUID") == execution.event_uuid,
            "prompt_finished": execution.completed.is_set()}


def test_a_caller_name_with_an_encoded_line_break_is_read_intact_and_forges_nothing(harness):
    results = harness.results

    @harness.app("forged_name")
    def app(session):
        results["name"] = session.channel["Caller-Caller-ID-Name"]
        results["connect_event_name"] = session.channel["Event-Name"]
        session.answer()
        call = harness.calls[0]
        results["plays"] = [playback_record(call, prompt, session.play(prompt)) for prompt in (FIRST, SECOND)]

    call = harness.call("forged_name")
    call.header_values.update({"Caller-Caller-ID-Name": FORGED_NAME, "Channel-Caller-ID-Name": FORGED_NAME})
    call.playback_lengths.update({FIRST: 0.15, SECOND: 0.05})
    finish(harness, call)
    # The wire held the name encoded, as FreeSWITCH sends it.
    assert b"Caller-Caller-ID-Name: Evil%0AEvent-Name%3A%20CHANNEL_EXECUTE_COMPLETE\n" in call.sent
    assert results["name"] == FORGED_NAME
    assert results["connect_event_name"] == "CHANNEL_DATA"
    # Every playback's CHANNEL_EXECUTE carried the name too: neither was taken for a completion.
    assert results["plays"] == [{"own_completion": True, "prompt_finished": True}] * 2


def test_a_playback_after_one_given_up_on_waits_for_its_own_completion(harness):
    """The app stops waiting for a long first prompt at its deadline and plays a second:
    the first's completion, arriving while the second waits, is not the second's."""
    results = harness.results

    @harness.app("two_playbacks")
    def app(session):
        session.answer()
        started = time.monotonic()
        try:
            session.play(FIRST, timeout=0.1)
        except CommandTimeout:
            results["gave_up_after"] = time.monotonic() - started
        completion = session.play(SECOND)
        results["second"] = playback_record(harness.calls[0], SECOND, completion)
        results["first_finished_before_second_returned"] = harness.calls[0].executions[1].completed.is_set()

    call = harness.call("two_playbacks")
    call.playback_lengths.update({FIRST: 0.4, SECOND: 0.05})
    finish(harness, call)
    assert 0.1 <= results["gave_up_after"] < 0.3
    assert results["second"] == {"own_completion": True, "prompt_finished": True}
    assert results["first_finished_before_second_returned"]
    # event-lock: FreeSWITCH (the fake) played the second after the first, not inside it.
    assert [e.arg for e in call.executions if e.app == "playback"] == [FIRST, SECOND]


# -- the fake's model of event-lock --------------------------------------------------------


def _events_after_two_playbacks(event_lock: bool) -> list[tuple[str, str]]:
    """(Event-Name, Application-Data) of the execute events a raw client sees after sending
    two playbacks back to back, with or without ``event-lock``."""
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    call = FakeCall(listener.getsockname())
    call.playback_lengths.update({FIRST: 0.2, SECOND: 0.05})
    sock, _ = listener.accept()
    try:
        lock = "event-lock: true\n" if event_lock else ""
        sock.sendall(b"connect\n\nmyevents\n\n")
        for prompt in (FIRST, SECOND):
            sock.sendall(f"sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
                         f"execute-app-arg: {prompt}\n{lock}\n".encode())
        seen: list[tuple[str, str]] = []
        buffer = b""
        with gevent.Timeout(3):
            while sum(name == "CHANNEL_EXECUTE_COMPLETE" for name, _ in seen) < 2:
                buffer += sock.recv(65536)
                while b"\n\n" in buffer:
                    head, rest = buffer.split(b"\n\n", 1)
                    length = next((int(line[16:]) for line in head.split(b"\n")
                                   if line.startswith(b"Content-Length: ")), 0)
                    if len(rest) < length:
                        break
                    body, buffer = rest[:length].decode(), rest[length:]
                    headers = dict(line.split(": ", 1) for line in body.split("\n") if ": " in line)
                    if headers.get("Event-Name", "").startswith("CHANNEL_EXECUTE"):
                        data = headers["Application-Data"].replace("%25", "%").replace("%3A", ":")
                        seen.append((headers["Event-Name"], data))
        return seen
    finally:
        sock.close()
        listener.close()
        call.cleanup()


def test_the_fake_runs_an_unlocked_execute_inside_an_unlocked_playback():
    assert _events_after_two_playbacks(event_lock=False) == [
        ("CHANNEL_EXECUTE", FIRST), ("CHANNEL_EXECUTE", SECOND),
        ("CHANNEL_EXECUTE_COMPLETE", SECOND), ("CHANNEL_EXECUTE_COMPLETE", FIRST),
    ]


def test_the_fake_runs_locked_executes_one_after_the_other():
    assert _events_after_two_playbacks(event_lock=True) == [
        ("CHANNEL_EXECUTE", FIRST), ("CHANNEL_EXECUTE_COMPLETE", FIRST),
        ("CHANNEL_EXECUTE", SECOND), ("CHANNEL_EXECUTE_COMPLETE", SECOND),
    ]
