"""The framing against the captured bytes, and the fake's fidelity to them."""

from __future__ import annotations

import json
import random
from urllib.parse import unquote

import pytest

from esl.framing import (
    EventHeaders,
    Parser,
    ProtocolError,
    _split_plain,
    _split_plain_event,
    encode_command,
    fs_url_encode,
    parse_event,
    split_header_block,
)
from esl.variables import ChannelVariables
from tests.fakes.freeswitch_esl import CAPTURE as INBOUND_CAPTURE
from tests.fakes.freeswitch_esl import read_capture, split_messages
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


# -- lazy decoding against the eager reading ------------------------------------------------
#
# The framing cuts plain blocks in C and decodes values when read. The reference below is
# the line-by-line reading it replaced (every line partitioned, every value stripped and
# URL-decoded at once); each captured message must come out of both the same.


def eager_headers(block: bytes, *, decode: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw in block.decode("utf-8", errors="replace").split("\n"):
        line = raw.rstrip("\r")
        if not line:
            continue
        name, sep, value = line.partition(": ")
        if not sep:
            name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"not a header line: {line[:80]!r}", resync=True)
        headers[name] = unquote(value.strip()) if decode else value.strip()
    return headers


def eager_event(body: bytes) -> tuple[dict[str, str], bytes]:
    end = body.find(b"\n\n")
    block, rest = (body, b"") if end < 0 else (body[:end], body[end + 2 :])
    headers = eager_headers(block, decode=True)
    if "Content-Length" in headers:
        try:
            rest = rest[: int(headers["Content-Length"])]
        except ValueError as exc:
            raise ProtocolError("bad event Content-Length", resync=True) from exc
    return headers, rest


def captured_fs_streams() -> dict[str, bytes]:
    """Everything FreeSWITCH wrote, per capture and connection (outbound calls and the
    inbound sessions fsnodes reads with the same framing)."""
    streams: dict[str, bytearray] = {}
    paths = [CAPTURES / f"{name}.log" for name in CAPTURE_NAMES] + [INBOUND_CAPTURE]
    for path in paths:
        for record in read_capture(path):
            if record.direction == "<<<":
                streams.setdefault(f"{path.stem}/{record.connection}", bytearray()).extend(record.data)
    return {key: bytes(data) for key, data in streams.items()}


STREAMS = captured_fs_streams()


@pytest.mark.parametrize("key", sorted(STREAMS))
def test_lazy_decoding_equals_eager_decoding_for_every_captured_message(key):
    stream = STREAMS[key]
    parser = Parser()
    parser.feed(stream)
    parsed = []
    while (message := parser.next()) is not None:
        parsed.append(message)
    raw_messages = split_messages(stream)
    assert len(parsed) == len(raw_messages) and parser.buffered == 0
    events = 0
    for message, raw in zip(parsed, raw_messages, strict=True):
        head, _, body = raw.partition(b"\n\n")
        outer = eager_headers(head, decode=False)
        if outer.get("Content-Type") == "text/event-plain":
            events += 1
            expected, expected_body = eager_event(body)
            block = body.split(b"\n\n", 1)[0]
            assert _split_plain(block) is not None, "a captured event missed the fast path"
            if not expected_body:
                assert _split_plain_event(body) is not None
            event = message.event
            assert isinstance(event, EventHeaders)
            assert list(event.items()) == list(expected.items())  # values and order
            assert dict(event) == expected and event == expected and len(event) == len(expected)
            for name, value in expected.items():
                assert event[name] == value and event.get(name) == value and message.get(name) == value
                assert name in event
            assert message.event_name == expected.get("Event-Name", "")
            assert message.event_body == expected_body
            eager_variables = {k[9:]: v for k, v in expected.items() if k.startswith("variable_")}
            lazy_variables = ChannelVariables.of_event(event.raw)
            assert list(lazy_variables.items()) == list(eager_variables.items())
        elif outer.get("Content-Type") == "command/reply" and "Event-Name" in outer:
            assert message.headers == {k: unquote(v) for k, v in outer.items()}  # the connect reply
            assert _split_plain(head) is not None
        else:
            assert message.headers == outer
    if "/outbound" in key or "/session" in key:
        assert events > 0


def test_variables_folded_lazily_equal_copying_every_event_in():
    """What OutboundConnection did per event (copy every variable_* in, decoded) against
    ChannelVariables, read at arbitrary points and written in between."""
    parser = Parser()
    parser.feed(captured_stream("b-hangup-during-playback") + captured_stream("a-full-happy-path"))
    eager: dict[str, str] = {"preset": "1", "domain_name": "before"}
    lazy = ChannelVariables(eager)
    held = lazy  # a reference kept by an app sees every later event too
    step = 0
    while (message := parser.next()) is not None:
        if message.event is None:
            continue
        for key, value in message.event.items():
            if key.startswith("variable_"):
                eager[key[9:]] = value
        lazy.fold(message.event.raw)
        step += 1
        if step % 3 == 0:
            assert list(held.items()) == list(eager.items())
        if step % 4 == 0:
            eager["written"] = lazy["written"] = f"w{step}"
    assert step > 20
    assert held == eager and list(held) == list(eager) and len(held) == len(eager)
    assert held["pagd_digits"] == "1" and held["read_result"] == "success"


def test_channel_variables_behave_as_the_dict_they_replace():
    headers = {"variable_a": "x%20y", "Event-Name": "CHANNEL_EXECUTE", "variable_b": "%2B1"}
    variables = ChannelVariables({"z": "0"})
    variables.fold(headers)
    assert isinstance(variables, dict)
    assert json.dumps(variables) == '{"z": "0", "a": "x y", "b": "+1"}'
    variables.fold({"variable_a": "later"})
    assert dict(variables) == {**variables} == {"z": "0", "a": "later", "b": "+1"}
    assert (lambda **kw: kw)(**variables) == {"z": "0", "a": "later", "b": "+1"}
    variables.fold({"variable_c": "3"})
    assert list(variables) == ["z", "a", "b", "c"]
    variables.fold({"variable_c": "3"})
    assert "c" in variables and variables.get("c") == "3" and len(variables) == 4
    variables.fold({"variable_d": "4"})
    assert variables.pop("d") == "4" and "d" not in variables
    variables.fold({"variable_e": "5"})
    assert variables.copy() == {"z": "0", "a": "later", "b": "+1", "c": "3", "e": "5"}
    assert variables | {"f": "6"} == {"z": "0", "a": "later", "b": "+1", "c": "3", "e": "5", "f": "6"}
    assert variables == ChannelVariables.of_event({
        "variable_z": "0", "variable_a": "later", "variable_b": "%2B1", "variable_c": "3", "variable_e": "5"})
    variables.fold({"variable_g": "7"})
    variables.clear()  # the folded-in event goes too, as it would have been copied in already
    assert variables == {} and not variables
    variables.fold({"variable_h": "8"})
    assert repr(variables) == "{'h': '8'}"


def test_a_bad_line_deep_inside_a_plain_event_is_still_caught():
    """Only the decoding of values waits until they are read: the shape of every line is
    checked when the message is read, as before."""
    captured = next(m for m in captured_messages("a-full-happy-path")
                    if b"Event-Name: CHANNEL_EXECUTE_COMPLETE" in m)
    lines = captured.split(b"\n\n", 1)[1].split(b"\n")
    for bad in (b"no colon here", b": no name", b" Leading-Space: x"):
        body = b"\n".join([*lines[:100], bad, *lines[100:]])
        parser = Parser()
        parser.feed(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
        parser.feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
        with pytest.raises(ProtocolError) as info:
            parser.next()
        assert info.value.resync
        assert parser.next().reply_text == "+OK"


def test_events_of_another_shape_read_as_before():
    """CRLF line ends, spaces around values, raw UTF-8, a colon without a space, an empty
    value: not what FreeSWITCH writes, read line by line exactly as before."""
    body = ("Event-Name: DTMF\r\nCaller-Caller-ID-Name:  Zoë %41 \r\nX-Bare:value\n"
            "DTMF-Digit: %23\nEmpty: \nvariable_v: a%20b\n\n").encode()
    assert _split_plain(body.split(b"\n\n")[0]) is None
    parser = Parser()
    parser.feed(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body)
    message = parser.next()
    expected, _ = eager_event(body)
    assert dict(message.event) == expected
    assert message.get("Caller-Caller-ID-Name") == "Zoë A" and message.get("X-Bare") == "value"
    assert message.get("DTMF-Digit") == "#" and message.get("Empty") == ""


def test_every_block_shape_splits_as_the_line_by_line_reading():
    """Random blocks from the pieces that matter (separators with and without spaces,
    colons in names and values, CR, tabs, controls, UTF-8, empty lines and names): the
    fast path and the fallback together give what the line-by-line reading gives, or both
    refuse the block."""
    pieces = [b"Name", b"a", b"variable_x", b"%3A", b"%20", b"%", b"+OK", b"\xc3\xa9", b"\xff",
              b":", b": ", b" ", b"\t", b"\r", b"\x00", b"\x7f", b"\x1c", b"::", b": : "]
    rng = random.Random(20261202)
    fast = 0
    for _ in range(4000):
        lines = []
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.5:  # mostly well-formed lines, so both paths get exercised
                lines.append(rng.choice([b"Name", b"a-b", b"variable_x"]) + b": "
                             + rng.choice([b"", b"v", b"%3A%20x", b"1.2"]))
            else:
                lines.append(b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))))
        block = b"\n".join(lines)
        try:
            expected = eager_headers(block, decode=False)
        except ProtocolError:
            expected = None
        try:
            got = split_header_block(block)
        except ProtocolError:
            got = None
        assert got == expected, block
        if got is not None:
            assert list(got.items()) == list(expected.items()), block
            assert dict(EventHeaders(got)) == eager_headers(block, decode=True), block
        fast += _split_plain(block) is not None
    assert 500 < fast < 3500


def test_every_event_body_shape_reads_as_the_line_by_line_reading():
    """Event bodies with and without an inner body, a closing empty line or not, an inner
    Content-Length good or bad: the same headers and inner body as the eager reading, or
    the same refusal."""
    blocks = [b"Event-Name: DTMF\nDTMF-Digit: %23", b"Event-Name: X\nContent-Length: 3",
              b"Event-Name: X\nContent-Length: x", b"Event-Name: X\nContent-Length: 12",
              b"Event-Name: X\r\nA:  b ", b"Event-Name: X\n: empty", b"A: b", b""]
    tails = [b"", b"\n", b"\n\n", b"\n\nabc", b"\n\nabc\n\n", b"\n\nx: y\n\n", b"\n\n\n\n", b"\n\nab: c"]
    fast = 0
    for block in blocks:
        for tail in tails:
            body = block + tail
            try:
                expected = eager_event(body)
            except ProtocolError:
                expected = None
            try:
                headers, rest = parse_event(body)
                got = (dict(headers), rest)
            except ProtocolError:
                got = None
            assert got == expected, body
            fast += _split_plain_event(body) is not None
    assert fast >= 4
