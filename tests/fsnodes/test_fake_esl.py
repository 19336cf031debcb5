"""The fake FreeSWITCH answers as the captured one did, and the ESL client handles every
answer (and non-answer) with a clear error."""

from __future__ import annotations

import time

import pytest

from esl.client import ESLAuthError, ESLConnectError, ESLTimeout, InboundESL
from tests.fakes.freeswitch_esl import (
    CAPTURED_PASSWORD,
    FakeFreeswitch,
    api_response,
    captured_connections,
    captured_events,
    command_reply,
    frame_event,
    split_messages,
)


def test_capture_is_read_whole():
    session = captured_connections()["session"]
    assert session.greeting == b"Content-Type: auth/request\n\n"
    commands = [e.command for e in session.exchanges]
    assert commands[0] == "auth ClueCon"
    assert "api xml_flush_cache id 1001 acme.example.net" in commands
    assert commands[-1] == "exit"
    wrong = captured_connections()["wrong-password"].exchanges
    assert [e.command for e in wrong] == ["auth WrongPassword"]
    assert len(wrong[0].reply) == 178  # -ERR invalid + disconnect-notice, as recorded


def test_generated_framing_is_byte_exact_with_the_capture():
    """Every api/response and plain command/reply of the capture is what the fake's
    framing functions produce for the same body / reply text."""
    checked = 0
    for connection in captured_connections().values():
        for exchange in connection.exchanges:
            first = split_messages(exchange.reply)[0]
            header, _, body = first.partition(b"\n\n")
            if header.startswith(b"Content-Type: api/response\n"):
                assert api_response(body) == first, exchange.command
                checked += 1
            elif header.count(b"\n") == 1 and header.startswith(b"Content-Type: command/reply\n"):
                text = header.split(b"\n")[1].decode().removeprefix("Reply-Text: ")
                assert command_reply(text) == first, exchange.command
                checked += 1
    assert checked >= 20


def test_client_against_the_fake_gets_the_captured_answers(fake_fs):
    with InboundESL(*fake_fs.address, CAPTURED_PASSWORD) as esl:
        assert esl.api("xml_flush_cache id 1001 acme.example.net") == "+OK cleared 0 entries\n"
        assert esl.api("status").startswith("UP 0 years, 0 days, 0 hours, 0 minutes, 10 seconds")
        assert esl.api("show channels count") == "\n0 total.\n"
        assert esl.api("nosuchcommand") == "-ERR nosuchcommand Command not found!\n"
    assert [r.command for r in fake_fs.received] == [
        "auth ClueCon",
        "api xml_flush_cache id 1001 acme.example.net",
        "api status",
        "api show channels count",
        "api nosuchcommand",
        "exit",
    ]


def test_wrong_password_is_a_clear_error(fake_fs):
    with pytest.raises(ESLAuthError, match=r"refused the event-socket password \(-ERR invalid\)"), \
            InboundESL(*fake_fs.address, "WrongPassword"):
        pass
    assert [r.command for r in fake_fs.received] == ["auth WrongPassword"]


def test_closed_port_is_a_connect_error():
    fake = FakeFreeswitch(start=False)
    with pytest.raises(ESLConnectError, match="cannot connect"), InboundESL(*fake.address, "x"):
        pass


def test_slow_reply_times_out(fake_fs):
    fake_fs.reply_delay = 1.0
    started = time.monotonic()
    with pytest.raises(ESLTimeout, match="no api/response"), \
            InboundESL(*fake_fs.address, CAPTURED_PASSWORD, reply_timeout=0.2) as esl:
        esl.api("status")
    assert time.monotonic() - started < 0.9


def test_silent_server_times_out_waiting_for_auth_request():
    """A port that accepts and never speaks (not FreeSWITCH, or wedged)."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with pytest.raises(ESLTimeout, match="no auth/request"), \
                InboundESL(*listener.getsockname(), "x", connect_timeout=0.2):
            pass


def test_a_line_break_cannot_smuggle_a_second_command(fake_fs):
    with InboundESL(*fake_fs.address, CAPTURED_PASSWORD) as esl, pytest.raises(ValueError):
        esl.api("status\n\napi shutdown")
    assert fake_fs.api_commands == []


def test_the_fake_can_stop_and_start_on_the_same_port():
    fake = FakeFreeswitch()
    port = fake.port
    fake.stop()
    with pytest.raises(ESLConnectError):
        InboundESL(*fake.address, CAPTURED_PASSWORD).connect()
    fake.start()
    try:
        with InboundESL("127.0.0.1", port, CAPTURED_PASSWORD) as esl:
            assert esl.api("xml_flush_cache id 1 a.example").startswith("+OK")
    finally:
        fake.stop()


def test_every_captured_event_reframes_byte_for_byte():
    """The fake's events are the captured ones rewritten: framing them again from their
    decoded headers (and inner body) gives back FreeSWITCH's exact bytes."""
    events = captured_events()
    assert len(events) == 35  # every event of the capture (summary file)
    for event in events:
        assert frame_event(event.headers, event.body) == event.framed, event.get("Event-Name")
    assert {e.get("Action") for e in events} >= {
        "add-member", "del-member", "mute-member", "deaf-member", "undeaf-member", "kick-member", "lock",
        "conference-create", "conference-destroy"}


def test_bgapi_answers_as_captured(fake_fs):
    """The command/reply to a bgapi with a client Job-UUID is the captured one."""
    captured = next(e.reply for e in captured_connections()["session"].exchanges
                    if e.command == "bgapi status" and b"7f4de4bc" in e.reply)
    reply, _, _ = fake_fs._bgapi("status", "7f4de4bc-17d7-11ee-9a4c-00163e000001")
    assert reply == split_messages(captured)[0]


def _captured_registrations() -> list:
    """The four phones of the captured ``sofia xmlstatus profile internal reg`` answer, as
    fake rows (their values read off the capture)."""
    from tests.fakes.freeswitch_esl import FakeRegistration

    return [FakeRegistration(user=user, host=host, network_ip="127.0.0.1", network_port=port,
                             contact_port=contact, agent="sipp-capture/3.6.1", expires=expires,
                             call_id=f"1-{call}@127.0.0.1")
            for user, host, port, contact, expires, call in [
                ("1001", "acme.example.net", 12405, 15384, 1796652843, 11424),
                ("1001-2", "acme.example.net", 10362, 15528, 1796652844, 11433),
                ("1002", "acme.localhost", 11492, 11194, 1796652844, 11441),
                ("1001", "beta.example.net", 10762, 13664, 1796652844, 11447)]]


def test_sofia_registrations_answer_as_captured_and_flush_as_sofia_does(fake_fs):
    """The fake's ``sofia xmlstatus profile internal reg`` is byte for byte the captured
    answer for the captured phones (at the capture's moment), and after the flush of
    ``acme.example.net`` it is the answer captured after that flush."""
    from tests.fakes.freeswitch_esl import REGISTRATIONS_CAPTURE, xmlstatus_reg

    rows = _captured_registrations()
    assert xmlstatus_reg(rows, now=1796652484) == (REGISTRATIONS_CAPTURE / "xmlstatus-reg.xml").read_text()
    fake_fs.registrations.extend(rows)
    with InboundESL(*fake_fs.address, CAPTURED_PASSWORD) as esl:
        assert esl.api("sofia xmlstatus profile nosuch reg") == "Invalid Profile!\n"
        assert esl.api("sofia profile internal flush_inbound_reg acme.example.net") == (
            "+OK flushing all registrations matching specified call_id\n")
        after = esl.api("sofia xmlstatus profile internal reg")
    captured_after = (REGISTRATIONS_CAPTURE / "xmlstatus-reg-after-flush.xml").read_text()
    # The captured answer came a second later (expsecs 358); the rows are the same.
    assert xmlstatus_reg(fake_fs.registrations, now=1796652486) == captured_after
    assert [line for line in after.splitlines() if "expsecs" not in line] == [
        line for line in captured_after.splitlines() if "expsecs" not in line]
    fake_fs.register("1001", "beta.example.net", call_id="abc@192.0.2.1")
    with InboundESL(*fake_fs.address, CAPTURED_PASSWORD) as esl:
        esl.api("sofia profile internal flush_inbound_reg 1001@beta.example.net")
        assert [r.user for r in fake_fs.registrations] == ["1002"]
        assert esl.api("sofia profile internal flush_inbound_reg") == "+OK flushing all registrations\n"
    assert fake_fs.registrations == []
