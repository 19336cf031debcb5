"""The framing against the captured bytes, and the fake's fidelity to them."""

from __future__ import annotations

import pytest

from callcontrol.esl.framing import Parser, ProtocolError, encode_command, fs_url_encode
from tests.fakes.freeswitch_esl import read_capture
from tests.fakes.freeswitch_outbound import (
    CAPTURES,
    captured_messages,
    captured_stream,
    connect_reply_template,
    frame_block,
    frame_event,
    parse_block,
)

CAPTURE_NAMES = ["a-full-happy-path", "b-hangup-during-playback", "c-socket-without-full",
                 "d-bridge-unregistered-user"]


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_fake_frames_every_captured_event_byte_for_byte(name):
    events = [m for m in captured_messages(name) if b"Content-Type: text/event-plain" in m.split(b"\n\n")[0]]
    assert events
    for message in events:
        body = message.split(b"\n\n", 1)[1]
        assert frame_event(parse_block(body.rstrip(b"\n"))) == message


def test_fake_connect_reply_is_the_captured_one():
    assert frame_block(connect_reply_template()) == captured_messages("a-full-happy-path")[0]


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_parser_reads_each_capture_record_by_record(name):
    parser = Parser()
    messages = []
    for record in read_capture(CAPTURES / f"{name}.log"):
        if record.direction == "<<<" and record.connection == "outbound-8084":
            parser.feed(record.data)
            while (message := parser.next()) is not None:
                messages.append(message)
    assert len(messages) == len(captured_messages(name))
    assert parser.buffered == 0
    connect = messages[0]
    assert connect.content_type == "command/reply"
    assert connect.reply_text == "+OK\n"  # %2BOK%0A, decoded
    assert connect.headers["variable_domain_name"] == "acme.example.net"
    assert connect.headers["Channel-Name"] == "sofia/internal/1001@acme.example.net"
    assert connect.headers["Control"] == ("single-channel" if name.startswith("c-") else "full")
    assert messages[1].reply_text in ("+OK Events Enabled",)
    last = messages[-1]
    assert last.content_type == "text/disconnect-notice"
    assert last.headers["Content-Disposition"] == "disconnect"
    assert last.body.startswith(b"Disconnected, goodbye.")


def test_event_values_are_decoded_and_app_uuid_echoes_our_event_uuid():
    parser = Parser()
    parser.feed(captured_stream("a-full-happy-path"))
    messages = []
    while (message := parser.next()) is not None:
        messages.append(message)
    dtmf = [m.get("DTMF-Digit") for m in messages if m.event_name == "DTMF"]
    assert dtmf == ["1", "#"]
    sent = captured_stream("a-full-happy-path", ">>>").decode()
    for message in messages:
        if message.event_name == "CHANNEL_EXECUTE_COMPLETE" and message.get("Application") != "socket":
            assert f"Event-UUID: {message.get('Application-UUID')}" in sent
    pagd = next(m for m in messages if m.get("Application") == "play_and_get_digits"
                and m.event_name == "CHANNEL_EXECUTE_COMPLETE")
    assert pagd.get("Application-Data").startswith("1 2 1 7000 # tone_stream://%(200,0,600)")
    assert pagd.get("variable_pagd_digits") == "1"


def test_an_encoded_line_break_cannot_forge_a_header():
    forged = fs_url_encode("Mallory\nApplication-UUID: x\nEvent-Name: CHANNEL_HANGUP")
    body = f"Event-Name: DTMF\nCaller-Caller-ID-Name: {forged}\nDTMF-Digit: 5\n\n".encode()
    parser = Parser()
    parser.feed(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    message = parser.next()
    assert message.event_name == "DTMF"
    assert "Application-UUID" not in message.event
    assert message.get("Caller-Caller-ID-Name").startswith("Mallory\n")


def test_malformed_block_is_skipped_and_the_stream_goes_on():
    parser = Parser()
    parser.feed(b"this is not esl\n\nContent-Type: command/reply\nReply-Text: +OK\n\n")
    with pytest.raises(ProtocolError) as info:
        parser.next()
    assert info.value.resync
    assert parser.next().reply_text == "+OK"


def test_bad_content_length_loses_the_stream():
    parser = Parser()
    parser.feed(b"Content-Type: text/event-plain\nContent-Length: lots\n\n")
    with pytest.raises(ProtocolError) as info:
        parser.next()
    assert not info.value.resync


def test_commands_cannot_smuggle_lines():
    assert encode_command("sendmsg", {"call-command": "execute", "execute-app-name": "answer"}) == (
        b"sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n")
    with pytest.raises(ValueError):
        encode_command("sendmsg", {"execute-app-arg": "x\n\nexit"})
