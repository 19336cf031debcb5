"""A per-process copy of the xml_curl cache that Redis keeps honest.

A warm fetch through Redis costs a round trip, and the client's work around it was half
of the endpoint's time (docs/benchmarks.md). Documents never go stale by themselves:
each carries the generations it was built under, and only generations change. So a
process keeps documents and generations in memory, and Redis tells it when a generation
changes: one connection per process asks for *broadcast tracking* of the generation
keys (``CLIENT TRACKING ON BCAST PREFIX …``, RESP3), and Redis pushes an ``invalidate``
message for every write to one of them, before the writer has its reply.

Before every lookup the process reads what has arrived on that connection (a
non-blocking ``recv``), so a bump that a writer saw acknowledged is applied before the
next fetch here is answered. A generation read from Redis is kept only if no
invalidation arrived while it was in flight (``sequence``), so a bump racing the read
cannot leave the old value behind. When the tracking connection is not up (not yet
connected, lost, refused), nothing is answered from memory: every lookup goes to Redis
as before, and the connection is retried at most once a second.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from redis.connection import parse_url

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
_CRLF = b"\r\n"


class Incomplete(Exception):
    """The buffer ends inside a frame."""


def parse_frame(buffer: bytes, start: int = 0) -> tuple[object, int]:
    """One RESP2/RESP3 value from ``buffer`` at ``start``, and where the next begins.
    Pushes come back as ``("push", [...])``, errors as ``("error", text)``."""
    end = buffer.find(_CRLF, start)
    if end < 0:
        raise Incomplete
    kind, line, after = buffer[start:start + 1], buffer[start + 1:end], end + 2
    if kind in (b"+", b":", b",", b"(", b"#"):
        return line, after
    if kind == b"-":
        return ("error", line.decode(errors="replace")), after
    if kind == b"_":
        return None, after
    if kind in (b"$", b"=", b"!"):
        length = int(line)
        if length < 0:
            return None, after
        if len(buffer) < after + length + 2:
            raise Incomplete
        value = buffer[after:after + length]
        return (("error", value.decode(errors="replace")) if kind == b"!" else value), after + length + 2
    if kind in (b"*", b">", b"~", b"%", b"|"):
        count = int(line)
        if count < 0:
            return None, after
        items: list[object] = []
        for _ in range(count * 2 if kind in (b"%", b"|") else count):
            item, after = parse_frame(buffer, after)
            items.append(item)
        if kind == b"|":
            # An attribute annotates the value that follows it.
            return parse_frame(buffer, after)
        return (("push", items) if kind == b">" else items), after
    raise ValueError(f"not a RESP frame: {buffer[start:start + 20]!r}")


def _command(*args: bytes | str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


@dataclass
class _Document:
    entry: bytes
    expires: float  # time.monotonic()


class LocalCache:
    """Documents and generations of one process, for keys under ``prefix``."""

    def __init__(self, url: str, generation_prefix: str, max_documents: int) -> None:
        self.url = url
        self.generation_prefix = generation_prefix.encode()
        self.max_documents = max_documents
        self.documents: dict[str, _Document] = {}
        self.generations: dict[bytes, bytes] = {}
        self.sequence = 0  # counts invalidations and reconnects
        self.lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._retry_at = 0.0
        self._pid = os.getpid()

    # --- the tracking connection ----------------------------------------------------

    @property
    def up(self) -> bool:
        return self._sock is not None

    def _connect(self) -> None:
        options = parse_url(self.url)
        if options.get("connection_class") is not None and "Unix" not in options["connection_class"].__name__:
            raise OSError("local document cache: only redis:// and unix:// URLs are tracked")
        if "path" in options:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(0.5)
            sock.connect(options["path"])
        else:
            sock = socket.create_connection((options.get("host", "localhost"), options.get("port", 6379)),
                                            timeout=0.5)
        try:
            hello: list[bytes | str] = ["HELLO", "3"]
            if options.get("password"):
                hello += ["AUTH", options.get("username") or "default", options["password"]]
            sock.sendall(_command(*hello) + _command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX",
                                                     self.generation_prefix))
            buffer, replies = b"", []
            while len(replies) < 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise OSError("Redis closed the tracking connection")
                buffer += chunk
                try:
                    while len(replies) < 2:
                        reply, used = parse_frame(buffer)
                        buffer = buffer[used:]
                        replies.append(reply)
                except Incomplete:
                    continue
            for reply in replies:
                if isinstance(reply, tuple) and reply[0] == "error":
                    raise OSError(f"Redis refused tracking: {reply[1]}")
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._sock, self._buffer = sock, buffer
        # Whatever was remembered before the connection came up was not tracked.
        self.generations.clear()
        self.sequence += 1

    def _lose(self, why: object) -> None:
        log.warning("xml_curl local cache: tracking connection lost (%s); using Redis only", why)
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""
        self.generations.clear()
        self.sequence += 1
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def _drain(self) -> None:
        """Apply every invalidation that has arrived; connect if due."""
        if self._pid != os.getpid():
            # A forked worker: the tracking socket is the parent's, and so is what it vouched for.
            self._pid, self._sock, self._buffer = os.getpid(), None, b""
            self.generations.clear()
            self.sequence += 1
        if self._sock is None:
            if time.monotonic() < self._retry_at:
                return
            try:
                self._connect()
            except (OSError, ValueError) as exc:
                self._lose(exc)
            return
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    self._lose("closed by Redis")
                    return
                self._buffer += chunk
        except BlockingIOError:
            pass
        except OSError as exc:
            self._lose(exc)
            return
        try:
            while self._buffer:
                frame, used = parse_frame(self._buffer)
                self._buffer = self._buffer[used:]
                self._apply(frame)
        except Incomplete:
            pass
        except ValueError as exc:
            self._lose(exc)

    def _apply(self, frame: object) -> None:
        if not (isinstance(frame, tuple) and frame[0] == "push"):
            return
        items = frame[1]
        if not items or items[0] != b"invalidate":
            return
        self.sequence += 1
        keys = items[1] if len(items) > 1 else None
        if keys is None:  # FLUSHDB / FLUSHALL
            self.generations.clear()
            return
        for key in keys:
            self.generations.pop(key, None)

    # --- lookups ----------------------------------------------------------------------

    def lookup(self, platform_key: bytes, key: str, tenant_key_of) -> tuple[int, tuple | None]:
        """(sequence, (platform, entry, tenant generation)) when memory holds a document
        still valid for ``key``; (sequence, None) otherwise. ``tenant_key_of(entry)`` names
        the generation key of the entry's tenant (None: the entry has no tenant)."""
        with self.lock:
            self._drain()
            if self._sock is None:
                return -1, None
            platform = self.generations.get(platform_key)
            document = self.documents.get(key)
            if platform is None or document is None or document.expires <= time.monotonic():
                return self.sequence, None
            tenant_key = tenant_key_of(document.entry)
            tenant = self.generations.get(tenant_key) if tenant_key else None
            if tenant_key and tenant is None:
                return self.sequence, None
            return self.sequence, (platform, document.entry, tenant)

    def generation(self, key: bytes) -> tuple[int, bytes | None]:
        """(sequence, the generation at ``key`` if memory holds it)."""
        with self.lock:
            self._drain()
            if self._sock is None:
                return -1, None
            return self.sequence, self.generations.get(key)

    def remember_generations(self, sequence: int, values: dict[bytes, bytes | None]) -> None:
        """Keep generations read from Redis, unless an invalidation may have overtaken
        the read (the sequence moved since ``sequence`` was taken before it)."""
        with self.lock:
            self._drain()
            if sequence < 0 or sequence != self.sequence or self._sock is None:
                return
            for key, value in values.items():
                if value is not None:
                    self.generations[key] = value

    def remember_document(self, key: str, entry: bytes, seconds: float) -> None:
        """Documents need no invalidation: each is checked against the generations it
        names on every lookup."""
        if seconds <= 0:
            return
        with self.lock:
            if key not in self.documents and len(self.documents) >= self.max_documents:
                # Oldest first: a dict keeps insertion order.
                self.documents.pop(next(iter(self.documents)))
            self.documents[key] = _Document(entry, time.monotonic() + seconds)
