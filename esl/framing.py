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

Cost: every command a call runs brings two events of ~330 header lines each (the whole
channel-variable dump), and the call-control server mostly reads five of them. So a block
is checked and cut into lines whole, in C (:func:`split_header_block`: one
``bytes.translate`` proves the block has the shape switch_url_encode gives it, a second
one and a ``split`` cut it), and an event's values stay URL-encoded until read
(:class:`EventHeaders`). A block of any other shape takes the line-by-line path; both give
the same headers (``tests/esl/test_framing.py`` checks every captured event and
blocks of every other shape). Malformed blocks are still found when the message is read.
"""

from __future__ import annotations

from collections.abc import Iterator, KeysView, Mapping
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


class EventHeaders(Mapping[str, str]):
    """The headers of a ``text/event-plain`` event: a read-only mapping whose values are
    URL-decoded when read (``unquote`` of the value as received, exactly what decoding
    the whole block at once would give). ``raw`` is the name -> value-as-received dict."""

    __slots__ = ("_decoded", "raw")

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self._decoded: dict[str, str] | None = None

    def __getitem__(self, name: str) -> str:
        return unquote(self.raw[name])

    def get(self, name: str, default=None):
        value = self.raw.get(name)
        return default if value is None else unquote(value)

    def __contains__(self, name: object) -> bool:
        return name in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def keys(self) -> KeysView[str]:
        return self.raw.keys()

    def items(self):
        return self._all().items()

    def values(self):
        return self._all().values()

    def _all(self) -> dict[str, str]:
        # Whole-event reads (items, values, equality) decode every value once.
        if self._decoded is None:
            self._decoded = {name: unquote(value) for name, value in self.raw.items()}
        return self._decoded

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventHeaders):
            return self._all() == other._all()
        if isinstance(other, Mapping):
            return self._all() == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the dict it was

    def __repr__(self) -> str:
        return f"EventHeaders({self._all()!r})"


@dataclass
class Message:
    """One framed message. For ``text/event-plain`` ``event`` holds the event headers
    (decoded when read, see :class:`EventHeaders`) and ``event_body`` its inner body (if
    any)."""

    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    event: EventHeaders | None = None
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


# Bytes a name or a value may hold in a block of the usual shape: printable ASCII but
# space and ':', which switch_url_encode encodes in every event value (so do controls and
# bytes above '~').
_PLAIN_BYTES = bytes(b for b in range(0x21, 0x7F) if b != 0x3A)
# In such a block ": " is the only colon and the only space: drop the space and make the
# colon a line break, and names and values alternate between line breaks.
_COLON_TO_NEWLINE = bytes.maketrans(b":", b"\n")


def _split_plain(block: bytes) -> dict[str, str] | None:
    """The headers of a block in which every line is ``name: value`` with the ": " its
    only space and its only colon, and the name not empty; None for any other block.

    For such a block the line-by-line rules below reduce to cutting at ": " and "\n":
    no ``\r`` to strip, no empty line, a name and a value with no space to strip, and
    the first ": " of a line is its only one."""
    # Deleting every name/value byte leaves the separators, which must read
    # ": \n: \n...: " (so the block also holds no other byte).
    separators = block.translate(None, _PLAIN_BYTES)
    if separators != b": \n" * (len(separators) // 3) + b": ":
        return None
    return _cut(block.translate(_COLON_TO_NEWLINE, b" ").decode("ascii").split("\n"))


def _cut(parts: list[str]) -> dict[str, str] | None:
    pairs = iter(parts)  # name, value, name, value ...
    headers = dict(zip(pairs, pairs, strict=True))
    return None if "" in headers else headers  # "": a line starting with ": "


def _split_plain_event(body: bytes) -> dict[str, str] | None:
    """:func:`_split_plain` for an event body that is one such block and its closing
    empty line, nothing after (no inner body): the usual event, read without looking
    for where its block ends. None for any other body."""
    if body[-2:] != b"\n\n":
        return None
    # With "\n\n" at the end and every line holding one ": ", that is the first "\n\n".
    separators = body.translate(None, _PLAIN_BYTES)
    if separators != b": \n" * (len(separators) // 3) + b"\n":
        return None
    return _cut(body.translate(_COLON_TO_NEWLINE, b" ").decode("ascii").split("\n")[:-2])


def _split_lines(block: bytes) -> dict[str, str]:
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
        headers[name] = value.strip()
    return headers


def split_header_block(block: bytes) -> dict[str, str]:
    """``Name: value`` lines -> {name: value as written (stripped, not URL-decoded)}; a
    later line with the same name wins. Raises :class:`ProtocolError` (``resync``) for a
    line that is not a header."""
    headers = _split_plain(block)
    return _split_lines(block) if headers is None else headers


def parse_header_lines(block: bytes, *, decode: bool) -> dict[str, str]:
    headers = split_header_block(block)
    return {name: unquote(value) for name, value in headers.items()} if decode else headers


def parse_event(body: bytes) -> tuple[EventHeaders, bytes]:
    """The headers (decoded when read) and inner body of a ``text/event-plain`` body."""
    plain = _split_plain_event(body)
    if plain is not None:
        headers, rest = EventHeaders(plain), b""
    else:
        end = body.find(b"\n\n")
        block, rest = (body, b"") if end < 0 else (body[:end], body[end + 2 :])
        headers = EventHeaders(split_header_block(block))
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
                headers = split_header_block(block)
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
