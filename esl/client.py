"""A small, synchronous client for FreeSWITCH's *inbound* event socket (mod_event_socket,
port 8021): connect, authenticate, run ``api`` commands, leave.

Why not greenswitch's ``InboundESL`` (a project dependency, kept for the long-lived
event-socket work): this client runs inside a Celery task (prefork or solo pool, no gevent
monkeypatching; eagerly in tests) and must never hang a worker. greenswitch 0.0.19, tried
against the fake FreeSWITCH in ``tests/fakes/freeswitch_esl.py`` and read:

* it only times out the TCP connect: it then sets the socket timeout to ``None``, waits for
  ``auth/request`` without a limit and ``send()`` waits for the reply without a limit, so a
  FreeSWITCH that accepts and then stalls blocks the task forever;
* ``InboundESL`` has no disconnect handler: a socket closed before the reply also leaves
  ``send()`` waiting forever, and ``_read_socket`` loops forever (logging a warning each
  time) when the socket closes in the middle of a body;
* a wrong password raises a bare ``ValueError`` and leaves its two greenlets running.

Without monkeypatching, greenswitch still works in a prefork worker (it uses
``gevent.socket`` directly, so its greenlets run while the calling thread waits on the hub),
but every one of the points above would need patching from outside. The framing is small
enough to drive from a plain blocking socket, where every wait has a deadline; the framing
itself is the one the call-control server uses (``esl.framing``).

Framing (the capture ``tests/fixtures/freeswitch/esl/inbound/session.log`` and
``mod_event_socket.c``): each message is ``Name: value`` header lines ended by an empty line
(``\\n\\n``); ``Content-Length``, when present, counts the body bytes that follow. The
server speaks first (``Content-Type: auth/request``); ``auth <password>`` is answered by a
``command/reply`` whose ``Reply-Text`` is ``+OK accepted`` or ``-ERR invalid`` (followed by
a ``text/disconnect-notice`` and the server closing); ``api <command>`` is answered by an
``api/response`` whose body is the command's output; ``exit`` by ``+OK bye``, a
disconnect-notice and a close.
"""

from __future__ import annotations

import socket
import time

from esl.framing import Message, Parser, ProtocolError, encode_command

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_REPLY_TIMEOUT = 5.0
MAX_HEADER_BYTES = 64 * 1024

# Messages an inbound connection may receive between a command and its answer if someone
# subscribed it to events or logs; a command's answer is never one of these.
UNSOLICITED_TYPES = ("text/event-plain", "text/event-json", "text/event-xml", "log/data")


class ESLError(Exception):
    """The session ended without an answer to the command in flight (if any): FreeSWITCH
    may or may not have run it."""


class ESLConnectError(ESLError):
    """Could not open the socket, or FreeSWITCH refused the connection (ACL)."""


class ESLAuthError(ESLError):
    """FreeSWITCH refused the event-socket password."""


class ESLTimeout(ESLError):
    """No complete message within the time allowed."""


class ESLDisconnected(ESLError):
    """The socket closed (or FreeSWITCH said goodbye) before the expected message."""


class ESLProtocolError(ESLError):
    """Something that is not event-socket framing, or an answer of the wrong kind."""


class InboundESL:
    """One inbound event-socket session. Use as a context manager::

        with InboundESL("127.0.0.1", 8021, "ClueCon") as esl:
            reply = esl.api("xml_flush_cache id 1001 acme.example.net")

    ``connect_timeout`` bounds the TCP connect and the wait for ``auth/request``;
    ``reply_timeout`` bounds the wait for each complete answer (a slow trickle of bytes does
    not extend it). After any :class:`ESLError` the session is unusable: close it.
    """

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self._sock: socket.socket | None = None
        self._parser = Parser(max_header_bytes=MAX_HEADER_BYTES)
        self.authenticated = False

    def __repr__(self) -> str:
        return f"<InboundESL {self.host}:{self.port}>"

    # -- session --------------------------------------------------------------------------

    def connect(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise ESLConnectError(
                f"connecting to {self.host}:{self.port} timed out after {self.connect_timeout:g} s"
            ) from exc
        except OSError as exc:
            raise ESLConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        greeting = self._read_message(self.connect_timeout, waiting_for="auth/request")
        if greeting.content_type == "text/rude-rejection":
            raise ESLConnectError(
                f"{self.host}:{self.port} rejected the connection: {greeting.text().strip()}"
            )
        if greeting.content_type != "auth/request":
            raise ESLProtocolError(f"expected auth/request, got {greeting.content_type!r}")
        self._send(f"auth {self._password}")
        reply = self._read_message(self.reply_timeout, waiting_for="answer to auth")
        if reply.content_type != "command/reply":
            raise ESLProtocolError(f"expected command/reply to auth, got {reply.content_type!r}")
        if not reply.reply_text.startswith("+OK"):
            raise ESLAuthError(
                f"{self.host}:{self.port} refused the event-socket password ({reply.reply_text})"
            )
        self.authenticated = True

    def api(self, command: str) -> str:
        """Run ``api <command>`` and return FreeSWITCH's output (the api/response body).
        FreeSWITCH reports a failed command *in* that output (``-ERR ...``): judging it is
        the caller's business."""
        if not self.authenticated:
            raise ESLProtocolError("not connected")
        self._send(f"api {command}")
        deadline = time.monotonic() + self.reply_timeout
        while True:
            message = self._read_message(deadline - time.monotonic(), waiting_for="api/response")
            if message.content_type in UNSOLICITED_TYPES:
                continue
            if message.content_type == "api/response":
                return message.text()
            if message.content_type == "text/disconnect-notice":
                raise ESLDisconnected(f"{self.host}:{self.port} disconnected: {message.text().strip()}")
            raise ESLProtocolError(
                f"expected api/response, got {message.content_type!r} {message.reply_text!r}"
            )

    def close(self) -> None:
        """Say ``exit`` if the session is healthy (FreeSWITCH answers ``+OK bye`` and
        closes), then close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if self.authenticated:
                self._sock = sock
                self._send("exit")
                self._read_message(min(1.0, self.reply_timeout), waiting_for="+OK bye")
        except (ESLError, OSError):
            pass
        finally:
            self._sock = None
            self.authenticated = False
            sock.close()

    def __enter__(self) -> InboundESL:
        try:
            self.connect()
        except BaseException:
            self._abort()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            # The connection is in an unknown state (a reply may still be on its way).
            self._abort()
        else:
            self.close()

    def _abort(self) -> None:
        sock, self._sock = self._sock, None
        self.authenticated = False
        if sock is not None:
            sock.close()

    # -- framing --------------------------------------------------------------------------

    def _send(self, command: str) -> None:
        data = encode_command(command)  # refuses a line break, which would smuggle in a command
        if self._sock is None:
            raise ESLDisconnected("not connected")
        self._sock.settimeout(self.reply_timeout)
        try:
            self._sock.sendall(data)
        except TimeoutError as exc:
            raise ESLTimeout(f"sending to {self.host}:{self.port} timed out") from exc
        except OSError as exc:
            raise ESLDisconnected(f"sending to {self.host}:{self.port} failed: {exc}") from exc

    def _read_message(self, timeout: float, *, waiting_for: str) -> Message:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                message = self._parser.next()
            except ProtocolError as exc:
                raise ESLProtocolError(str(exc)) from exc
            if message is not None:
                return message
            self._fill(deadline, waiting_for)

    def _fill(self, deadline: float, waiting_for: str) -> None:
        if self._sock is None:
            raise ESLDisconnected("not connected")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ESLTimeout(f"no {waiting_for} from {self.host}:{self.port} in time")
        self._sock.settimeout(remaining)
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError as exc:
            raise ESLTimeout(f"no {waiting_for} from {self.host}:{self.port} in time") from exc
        except OSError as exc:
            raise ESLDisconnected(f"reading from {self.host}:{self.port} failed: {exc}") from exc
        if not chunk:
            raise ESLDisconnected(f"{self.host}:{self.port} closed the connection before {waiting_for}")
        self._parser.feed(chunk)
