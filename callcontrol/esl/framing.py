"""Event-socket framing, as FreeSWITCH writes it on an outbound socket.

Checked against the captures in ``tests/fixtures/freeswitch/esl/outbound/*.log`` (real
FreeSWITCH 1.11.3-dev traffic) and ``mod_event_socket.c``:

* A message is ``Name: value`` lines ended by an empty line (``\\n\\n``). When the block
  has ``Content-Length: N``, N body bytes follow. Content-Type is not always the first
  header (the ``connect`` reply starts with ``Event-Name: CHANNEL_DATA``).
* ``command/reply`` header values are plain text (``Reply-Text: +OK Events Enabled``),
  except the reply to ``connect``: that one is the channel's data serialised as an event,
  so every value is URL-encoded, ``Reply-Text: %2BOK%0A`` included.
* ``text/event-plain``: the body is itself a header block, every value URL-encoded
  (``DTMF-Digit: %23``), ended by an empty line; an event with its own ``Content-Length``
  header carries an inner body after that block.
* ``text/disconnect-notice``: plain headers (``Content-Disposition: linger`` or
  ``disconnect``, ``Linger-Time``) and a ``Content-Length`` body (the goodbye text).

Values are decoded *after* the block is cut into lines. Decoding first (as greenswitch's
``ESLEvent.parse_data`` does) turns an encoded ``%0A`` inside a value -- SDP, a SIP
header the caller controls -- into a line break and lets it forge header lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

MAX_HEADER_BYTES = 256 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024

# switch_utils.h SWITCH_URL_UNSAFE; controls and bytes above '~' are encoded too.
URL_UNSAFE = frozenset('\r\n #%&+:;<=>?@[\\]^`{|}"')


class ProtocolError(Exception):
    """Bytes that are not event-socket framing. ``resync`` says whether the stream can go
    on (the message was skipped whole) or is lost (a bad Content-Length)."""

    def __init__(self, message: str, *, resync: bool = False) -> None:
        super().__init__(message)
        self.resync = resync


@dataclass
class Message:
    """One framed message. For ``text/event-plain`` ``event`` holds the decoded event
    headers and ``event_body`` its inner body (if any)."""

    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    event: dict[str, str] | None = None
    event_body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        return self.headers.get("Reply-Text", "")

    @property
    def event_name(self) -> str:
        return (self.event or {}).get("Event-Name", "")

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def get(self, name: str, default: str = "") -> str:
        """A header of the event (or of the message, for non-events)."""
        source = self.event if self.event is not None else self.headers
        return source.get(name, default)


def fs_url_encode(value: str) -> str:
    """switch_url_encode(): what FreeSWITCH does to each value of a plain event."""
    out = []
    for char in value:
        if char in URL_UNSAFE or ord(char) < 0x20 or ord(char) > 0x7E:
            out.extend(f"%{byte:02X}" for byte in char.encode())
        else:
            out.append(char)
    return "".join(out)


def parse_header_lines(block: bytes, *, decode: bool) -> dict[str, str]:
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


def parse_event(body: bytes) -> tuple[dict[str, str], bytes]:
    """The headers and inner body of a ``text/event-plain`` body."""
    end = body.find(b"\n\n")
    block, rest = (body, b"") if end < 0 else (body[:end], body[end + 2 :])
    headers = parse_header_lines(block, decode=True)
    length_text = headers.get("Content-Length")
    if length_text is not None:
        try:
            rest = rest[: int(length_text)]
        except ValueError as exc:
            raise ProtocolError(f"bad event Content-Length {length_text!r}", resync=True) from exc
    return headers, rest


class Parser:
    """Incremental parser: ``feed(bytes)`` and pop complete messages with ``next()``.

    A malformed header block or event body raises :class:`ProtocolError` with
    ``resync=True`` after the message has been consumed (the caller logs it and carries
    on); a Content-Length that cannot be trusted raises with ``resync=False``.
    """

    def __init__(self, max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        self._buffer = bytearray()
        self._pending: tuple[dict[str, str], int] | None = None  # headers, body length
        self.max_header_bytes = max_header_bytes

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next(self) -> Message | None:
        if self._pending is None:
            # Tolerate stray blank lines between messages.
            while self._buffer[:1] == b"\n":
                del self._buffer[:1]
            end = self._buffer.find(b"\n\n")
            if end < 0:
                if len(self._buffer) > self.max_header_bytes:
                    raise ProtocolError("header block too long")
                return None
            block = bytes(self._buffer[:end])
            del self._buffer[: end + 2]
            try:
                headers = parse_header_lines(block, decode=False)
            except ProtocolError as exc:
                # No trustworthy Content-Length: the block alone is dropped.
                raise ProtocolError(f"malformed header block: {exc}", resync=True) from None
            length_text = headers.get("Content-Length", "0") or "0"
            try:
                length = int(length_text)
            except ValueError:
                raise ProtocolError(f"bad Content-Length {length_text!r}") from None
            if not 0 <= length <= MAX_BODY_BYTES:
                raise ProtocolError(f"bad Content-Length {length}")
            self._pending = (headers, length)
        headers, length = self._pending
        if len(self._buffer) < length:
            return None
        self._pending = None
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        message = Message(headers, body)
        if message.content_type == "text/event-plain":
            message.event, message.event_body = parse_event(body)
        elif message.content_type == "command/reply" and "Event-Name" in headers:
            # The connect reply: the channel data, serialised (and so encoded) as an event.
            message.headers = {name: unquote(value) for name, value in headers.items()}
        return message


def encode_command(line: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """A command as mod_event_socket reads it: the command line, optional header lines,
    an empty line, and the body if any (with its Content-Length)."""
    parts = [line]
    for name, value in (headers or {}).items():
        parts.append(f"{name}: {value}")
    if body:
        parts.append(f"Content-Length: {len(body)}")
    for part in parts:
        if "\n" in part or "\r" in part:
            # A line break would end the command early and smuggle in another one.
            raise ValueError(f"an event-socket command cannot contain a line break: {part[:80]!r}")
    return ("\n".join(parts) + "\n\n").encode() + body
