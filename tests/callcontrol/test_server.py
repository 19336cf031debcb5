"""The server: app dispatch, unknown apps, misbehaving calls beside healthy ones."""

from __future__ import annotations

import logging
import socket

import gevent
import gevent.socket as gsocket
import pytest

from callcontrol.apps.demo import echo_digits
from callcontrol.session import CallerHungUp
from esl.addresses import parse_address
from tests.callcontrol.helpers import finish, sendmsgs


def test_demo_app_end_to_end(harness):
    harness.apps["echo_digits"] = echo_digits
    call = harness.call("echo_digits")
    call.wait_for_app("play_and_get_digits")
    call.press("305#")
    finish(harness, call)
    assert [(name, arg) for _, name, arg, _ in sendmsgs(call) if name == "playback"] == [
        ("playback", "digits/3.wav"), ("playback", "digits/0.wav"), ("playback", "digits/5.wav")]
    assert call.hangup_cause == "NORMAL_CLEARING"
    assert harness.server.calls_handled == 1


@pytest.mark.parametrize("variables", [{"switchboard_app": "no_such_app"}, {}])
def test_unknown_app_gets_a_prompt_and_a_hangup(harness, caplog, variables):
    call = harness.call(variables=variables)
    finish(harness, call)
    assert sendmsgs(call) == [
        ("execute", "answer", None, None),
        ("execute", "playback", "ivr/ivr-call_cannot_be_completed_as_dialed.wav", None),
        ("hangup", None, None, "UNALLOCATED_NUMBER"),
    ]
    assert "unknown app" in caplog.text


def test_one_log_line_per_call(harness, caplog):
    harness.apps["x"] = lambda s: s.answer()
    call = harness.call("x")
    with caplog.at_level(logging.INFO, logger="callcontrol.server"):
        finish(harness, call)
    lines = [r.getMessage() for r in caplog.records
             if r.name == "callcontrol.server" and call.uuid in r.getMessage()]
    assert len(lines) == 1 and "app=x domain=acme.example.net from=1001 to=9000" in lines[0]


def test_malformed_messages_are_logged_and_the_call_goes_on(harness, caplog):
    done = {}

    @harness.app("m")
    def app(session):
        session.answer()
        session.play("ivr/one.wav")
        done["ok"] = session.play("ivr/two.wav").response

    call = harness.call("m")
    call.playback_seconds = 0.2
    call.wait_for_app("playback")
    call.send_raw(b"this is not the event socket\n\n")
    body = b"Event-Name: CHANNEL_EXECUTE_COMPLETE\nno colon here\n\n"
    call.send_raw(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    call.send_raw(b"Content-Type: text/surprise\nContent-Length: 3\n\nabc")
    call.send_raw(b"Content-Type: command/reply\nReply-Text: +OK nobody asked\n\n")
    finish(harness, call)
    assert done == {"ok": "FILE PLAYED"}
    assert "skipped a malformed message" in caplog.text
    assert "unexpected 'text/surprise'" in caplog.text


def test_unreadable_stream_ends_only_that_call(harness, caplog):
    errors = []

    @harness.app("g")
    def app(session):
        session.answer()
        try:
            session.play("ivr/long.wav")
        except CallerHungUp as exc:
            errors.append(exc.reason)
            raise

    harness.apps["echo_digits"] = echo_digits
    bad = harness.call("g")
    bad.hold.add("playback")
    good = harness.call("echo_digits")
    bad.wait_for_app("playback")
    bad.send_raw(b"Content-Type: text/event-plain\nContent-Length: -5\n\n")
    good.wait_for_app("play_and_get_digits")
    good.press("1#")
    finish(harness, good)
    assert bad.wait_closed(2)
    assert errors == ["protocol"]
    assert "unreadable stream" in caplog.text
    assert [a for _, n, a, _ in sendmsgs(good) if n == "playback"] == ["digits/1.wav"]


def test_server_keeps_serving_while_calls_misbehave(harness):
    harness.apps["echo_digits"] = echo_digits

    @harness.app("stuck")
    def stuck(session):
        session.answer()
        session.play("ivr/forever.wav", timeout=30)

    @harness.app("boom")
    def boom(session):
        raise RuntimeError("app bug")

    slow = harness.call("stuck")
    slow.hold.add("playback")
    dropper = harness.call("stuck")
    dropper.hold.add("playback")
    crasher = harness.call("boom")
    silent = gsocket.create_connection(harness.server.address)  # never answers connect... nor sends
    slow.wait_for_app("playback")
    dropper.wait_for_app("playback")
    dropper.drop()
    assert crasher.wait_closed(2) and crasher.hangup_cause == "NORMAL_TEMPORARY_FAILURE"

    good = [harness.call("echo_digits") for _ in range(5)]
    for n, call in enumerate(good):
        call.wait_for_app("play_and_get_digits")
        call.press(f"{n}#")
    for call in good:
        assert call.wait_closed(3)
    assert [[a for _, name, a, _ in sendmsgs(c) if name == "playback"] for c in good] == [
        [f"digits/{n}.wav"] for n in range(5)]
    with gevent.Timeout(2):
        while len(harness.server.sessions) > 1:  # the good calls finishing their release
            gevent.sleep(0.01)
    # The stuck call is still served; the silent socket has no session yet.
    assert [s.app_name for s in harness.server.sessions.values()] == ["stuck"]
    slow.hangup()
    assert slow.wait_closed(2)
    silent.close()
    harness.wait_idle()


def test_peer_that_never_answers_connect_is_dropped(harness):
    harness.server.handshake_timeout = 0.2
    silent = gsocket.create_connection(harness.server.address)
    try:
        assert silent.recv(100) == b"connect\n\n"
        with gevent.Timeout(2):
            assert silent.recv(100) == b""  # closed by the server
    finally:
        silent.close()
    harness.wait_idle()


def test_listen_address_parsing():
    assert parse_address("127.0.0.1:8084") == ("127.0.0.1", 8084)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    assert parse_address(":8084") == ("0.0.0.0", 8084)
    with pytest.raises(ValueError):
        parse_address("localhost")


def test_commands_are_not_held_back_by_nagle(harness):
    seen = {}

    @harness.app("n")
    def app(session):
        seen["nodelay"] = session.conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

    finish(harness, harness.call("n"))
    assert seen["nodelay"]


def test_completion_in_another_shape_counts_and_a_broken_one_is_skipped(harness, caplog):
    """A broken line deep inside a full-size event still gets the event skipped (lines are
    checked when it is read, only decoding waits); an event with CRLF line ends and padded
    values (read line by line, not by the fast path) still completes the app."""
    done = {}

    @harness.app("s")
    def app(session):
        session.answer()
        completion = session.play("ivr/held.wav")
        done.update(response=completion.response, playback_ms=completion.variables.get("playback_ms"),
                    note=session.variables.get("cc_note"))

    call = harness.call("s")
    call.hold.add("playback")
    execution = call.wait_for_app("playback")

    def completion(response: str) -> list[bytes]:
        framed = call._event("CHANNEL_EXECUTE_COMPLETE", "playback", overrides={
            "Application-Data": execution.arg, "Application-Response": response,
            "Application-UUID": execution.event_uuid, "variable_playback_ms": "123",
            "variable_cc_note": "a b"})
        return framed.split(b"\n\n", 1)[1].rstrip(b"\n").split(b"\n")

    def frame(body: bytes) -> bytes:
        return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body

    lines = completion("FORGED")
    assert len(lines) > 150
    call.send_raw(frame(b"\n".join([*lines[:80], b"no colon here", *lines[80:]]) + b"\n\n"))
    lines = completion("FILE PLAYED CRLF")
    lines = [line.replace(b": ", b":  ", 1) + b" " if line.startswith(b"variable_cc_note") else line
             for line in lines]
    call.send_raw(frame(b"\r\n".join(lines) + b"\n\n"))
    finish(harness, call)
    assert done == {"response": "FILE PLAYED CRLF", "playback_ms": "123", "note": "a b"}
    assert "skipped a malformed message" in caplog.text
