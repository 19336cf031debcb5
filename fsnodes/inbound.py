"""One long-lived inbound event-socket connection to one FreeSWITCH node, on gevent.

``esl.client.InboundESL`` is the short blocking session the Celery outbox uses (connect,
a few ``api`` commands, leave). This is the other shape: a connection that stays up, is
subscribed to events, and is shared by every greenlet of the call-control process.

* Handshake (capture ``esl/inbound/session.log``): ``auth/request`` greeting, ``auth`` ->
  ``+OK accepted`` (``-ERR invalid`` + disconnect-notice + close on a wrong password),
  ``event plain <names>`` -> ``+OK event listener enabled plain``.
* FreeSWITCH answers the commands of one socket in the order they were sent, each with one
  ``command/reply`` or ``api/response``, so replies are matched to a FIFO of waiters.
  Several greenlets may have commands in flight at once (pipelined).
* A command whose reply does not come in time raises :class:`ESLTimeout`; its waiter stays
  in the FIFO, marked abandoned, so the late reply is dropped instead of being handed to
  the next command. If it never comes (``wedge_timeout``) the connection is dropped.
* ``bgapi`` is answered at once with ``+OK Job-UUID: U``; the result is the body of the
  BACKGROUND_JOB event carrying ``Job-UUID: U``. We choose the UUID (FreeSWITCH takes a
  client ``Job-UUID`` header, as captured) and register the waiter before sending, so an
  event racing the reply cannot be missed.
* Liveness: FreeSWITCH sends HEARTBEAT every 20 s by default; nothing at all received for
  ``idle_timeout`` means a half-open TCP connection, which is then dropped.
* Reconnects use exponential backoff with jitter (:class:`Backoff`), forever, until
  ``stop()``. A connection that stayed up for ``stable_after`` seconds resets the backoff.
* A malformed message is logged and skipped; a stream that cannot be resynchronised is
  dropped and reconnected. Nothing a node sends stops the connection's greenlets.

While the node is not connected, :meth:`NodeConnection.api` fails at once with
:class:`NodeUnavailable`: interactive callers get an answer now, not when the node returns.
Durable commands go through the ``NodeCommand`` outbox instead (``fsnodes.manager``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid as uuidlib
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import gevent.socket as gsocket
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from esl.client import (
    ESLAuthError,
    ESLConnectError,
    ESLDisconnected,
    ESLError,
    ESLProtocolError,
    ESLTimeout,
)
from esl.framing import Message, Parser, ProtocolError, encode_command

log = logging.getLogger("fsnodes.inbound")

# What the manager needs: conference state, calls starting, answered and ending
# (fsnodes.call_events, originate), job results, liveness. ``CUSTOM`` must come before
# its subclasses, and every plain event name before ``CUSTOM`` (mod_event_socket reads
# each word after it as a subclass).
EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "HEARTBEAT",
          "CUSTOM", "conference::maintenance")

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_REPLY_TIMEOUT = 5.0
DEFAULT_IDLE_TIMEOUT = 65.0  # three missed 20 s heartbeats
DEFAULT_WEDGE_TIMEOUT = 60.0
WRITE_TIMEOUT = 5.0
CHECK_INTERVAL = 5.0
RECV_BYTES = 65536

# Greenlets this module spawned and that have not finished (tests assert it empties).
LIVE_GREENLETS: weakref.WeakSet[gevent.Greenlet] = weakref.WeakSet()


class NodeUnavailable(ESLError):
    """The node is not connected right now: the command was not sent."""


class CommandRejected(ESLError):
    """FreeSWITCH answered a command (not an api body) with ``-ERR``."""


class JobTimeout(ESLTimeout):
    """A ``bgapi`` job's BACKGROUND_JOB did not come in time; the job may still run."""

    def __init__(self, message: str, job_uuid: str) -> None:
        super().__init__(message)
        self.job_uuid = job_uuid


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "equal jitter": after the n-th failure in a row, a delay
    drawn from [d/2, d] with d = min(cap, base * 2**(n-1)). Never zero (a node that is
    down is not hammered) and spread out (nodes restarted together are not all
    reconnected in the same instant by every call-control process).

    The defaults retry a node that went away within 0.125-0.25 s and never wait more than
    2 s: a restarted FreeSWITCH is back in 3-8 s, and with a 30 s cap the manager came
    back ~12 s after a restart (attempt 5; issue 12), while every conference event of the
    gap waits for the resync on connect. An attempt at a node that is down costs one
    refused TCP connect, so a call-control process trying every 1-2 s hammers nothing."""

    base: float = 0.25
    cap: float = 2.0

    def ceiling(self, failures: int) -> float:
        return min(self.cap, self.base * 2 ** min(max(failures, 1) - 1, 30))

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = self.ceiling(failures)
        return ceiling / 2 + rand() * ceiling / 2


@dataclass
class _Waiter:
    command: str
    sent_at: float
    result: AsyncResult = field(default_factory=AsyncResult)
    abandoned: bool = False


EventHandler = Callable[["NodeConnection", Message], None]
ConnectedHandler = Callable[["NodeConnection"], None]
StatusHandler = Callable[["NodeConnection", bool, str], None]


class NodeConnection:
    """The connection to one node. ``start()`` spawns it; ``stop()`` ends it and every
    greenlet it spawned. Handlers run in this connection's greenlets and must not block
    for long (short database writes are fine: they block the hub briefly, as call
    sessions' queries do)."""

    def __init__(
        self,
        node_id: int,
        name: str,
        host: str,
        port: int,
        password: str,
        *,
        on_event: EventHandler | None = None,
        on_connected: ConnectedHandler | None = None,
        on_status: StatusHandler | None = None,
        events: tuple[str, ...] = EVENTS,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        wedge_timeout: float = DEFAULT_WEDGE_TIMEOUT,
        backoff: Backoff | None = None,
        stable_after: float = 10.0,
        check_interval: float = CHECK_INTERVAL,
    ) -> None:
        self.node_id = node_id
        self.name = name
        self.host = host
        self.port = port
        self._password = password
        self.events = events
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self.idle_timeout = idle_timeout
        self.wedge_timeout = wedge_timeout
        self.backoff = backoff or Backoff()
        self.stable_after = stable_after
        self.check_interval = check_interval
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_status = on_status
        self.state = "stopped"  # stopped, connecting, up, waiting (backoff)
        self.last_error = ""
        self.connects = 0  # successful handshakes
        self.failures = 0  # failed attempts in a row
        self.delays: list[float] = []  # every backoff delay slept, in order
        self.protocol_errors = 0
        self.last_received = 0.0
        self.last_heartbeat: dict[str, str] | None = None
        self._sock = None
        self._parser = Parser()
        self._waiters: deque[_Waiter] = deque()
        self._jobs: dict[str, AsyncResult] = {}
        self._send_lock = Semaphore()
        self._up = Event()
        self._stop_requested = Event()  # wakes a backoff sleep at once
        self._stopping = False
        self._runner: gevent.Greenlet | None = None
        self._reader: gevent.Greenlet | None = None

    def __repr__(self) -> str:
        return f"<NodeConnection {self.name} {self.host}:{self.port} {self.state}>"

    @property
    def connected(self) -> bool:
        return self.state == "up"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> NodeConnection:
        if self._runner is None:
            self._stopping = False
            self._stop_requested.clear()
            self._runner = self._spawn(self._run)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Close the connection, fail what waits on it, end every greenlet."""
        self._stopping = True
        self._stop_requested.set()
        self._close()
        for greenlet in (self._reader, self._runner):
            if greenlet is not None and not greenlet.dead:
                greenlet.join(timeout)
                if not greenlet.dead:
                    greenlet.kill(block=True, timeout=timeout)
        self._runner = self._reader = None
        self.state = "stopped"

    def wait_up(self, timeout: float) -> bool:
        return self._up.wait(timeout)

    def _spawn(self, fn, *args) -> gevent.Greenlet:
        greenlet = gevent.spawn(fn, *args)
        LIVE_GREENLETS.add(greenlet)
        return greenlet

    def _run(self) -> None:
        while not self._stopping:
            self.state = "connecting"
            try:
                self._handshake()
            except ESLError as exc:
                self._close()
                self.failures += 1
                level = logging.ERROR if isinstance(exc, ESLAuthError) else logging.WARNING
                self._down(str(exc), level=level)
                self._sleep_backoff()
                continue
            except Exception as exc:  # a bug must not end the reconnect loop
                log.exception("node %s: handshake failed", self.name)
                self._close()
                self.failures += 1
                self._down(f"{type(exc).__name__}: {exc}")
                self._sleep_backoff()
                continue
            started = time.monotonic()
            self.connects += 1
            self.state = "up"
            self.last_error = ""
            self._up.set()
            log.info("node %s: connected to %s:%d", self.name, self.host, self.port)
            self._reader = self._spawn(self._read_loop)
            self._status(True, "")
            if self._on_connected is not None:
                try:
                    self._on_connected(self)
                except Exception:
                    log.exception("node %s: on-connect work failed", self.name)
            self._reader.join()
            self._reader = None
            if self._stopping:
                break
            if time.monotonic() - started >= self.stable_after:
                self.failures = 0
            self.failures += 1
            self._down(self.last_error or "connection lost")
            self._sleep_backoff()

    def _sleep_backoff(self) -> None:
        if self._stopping:
            return
        self.state = "waiting"
        delay = self.backoff.delay(self.failures)
        self.delays.append(delay)
        self._stop_requested.wait(delay)

    def _down(self, error: str, level: int = logging.WARNING) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        self.last_error = error
        if not self._stopping:
            log.log(level, "node %s: %s (attempt %d failed, retrying)", self.name, error, self.failures)
        if was_up or self.failures == 1:
            self._status(False, error)

    def _status(self, up: bool, error: str) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(self, up, error)
        except Exception:
            log.exception("node %s: status handler failed", self.name)

    # -- handshake -------------------------------------------------------------------------

    def _handshake(self) -> None:
        self._parser = Parser()
        try:
            sock = gsocket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise ESLConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._sock = sock
        greeting = self._read_one(self.connect_timeout, "auth/request")
        if greeting.content_type == "text/rude-rejection":
            raise ESLConnectError(
                f"{self.host}:{self.port} rejected the connection: {greeting.text().strip()}")
        if greeting.content_type != "auth/request":
            raise ESLProtocolError(f"expected auth/request, got {greeting.content_type!r}")
        self._write(encode_command(f"auth {self._password}"))
        reply = self._read_one(self.reply_timeout, "answer to auth")
        if not reply.reply_text.startswith("+OK"):
            raise ESLAuthError(
                f"{self.host}:{self.port} refused the event-socket password ({reply.reply_text})")
        self._write(encode_command("event plain " + " ".join(self.events)))
        reply = self._read_one(self.reply_timeout, "answer to event")
        if not reply.reply_text.startswith("+OK"):
            raise ESLProtocolError(f"event subscription refused: {reply.reply_text}")
        self.last_received = time.monotonic()

    def _read_one(self, timeout: float, waiting_for: str) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self._parser.next()
            except ProtocolError as exc:
                raise ESLProtocolError(str(exc)) from exc
            if message is not None:
                if message.content_type in ("text/event-plain", "log/data"):
                    continue
                if message.content_type == "text/disconnect-notice":
                    raise ESLDisconnected(f"{self.host}:{self.port} said goodbye before {waiting_for}")
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ESLTimeout(f"no {waiting_for} from {self.host}:{self.port} in time")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(RECV_BYTES)
            except TimeoutError as exc:
                raise ESLTimeout(f"no {waiting_for} from {self.host}:{self.port} in time") from exc
            except OSError as exc:
                raise ESLDisconnected(f"reading from {self.host}:{self.port} failed: {exc}") from exc
            if not chunk:
                raise ESLDisconnected(f"{self.host}:{self.port} closed the connection before {waiting_for}")
            self._parser.feed(chunk)

    # -- commands --------------------------------------------------------------------------

    def api(self, command: str, timeout: float | None = None) -> str:
        """``api <command>``: FreeSWITCH's output (a failed command says ``-ERR ...`` in
        it; judging that is the caller's business)."""
        return self._request(f"api {command}", None, timeout).text()

    def bgapi(self, command: str, timeout: float | None = None, *, job_uuid: str | None = None) -> str:
        """``bgapi <command>``: the job's output, from its BACKGROUND_JOB event.
        ``timeout`` bounds the whole wait (reply and job)."""
        timeout = self.reply_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        job = job_uuid or str(uuidlib.uuid4())
        result = AsyncResult()
        self._jobs[job] = result
        try:
            reply = self._request(f"bgapi {command}", {"Job-UUID": job}, timeout)
            if not reply.reply_text.startswith("+OK"):
                raise CommandRejected(f"node {self.name}: bgapi {command!r}: {reply.reply_text}")
            try:
                return result.get(timeout=max(deadline - time.monotonic(), 0))
            except gevent.Timeout:
                raise JobTimeout(
                    f"node {self.name}: no result for bgapi {command!r} within {timeout:g} s "
                    f"(job {job} may still run)", job) from None
        finally:
            self._jobs.pop(job, None)

    def _request(self, line: str, headers: dict[str, str] | None, timeout: float | None) -> Message:
        timeout = self.reply_timeout if timeout is None else timeout
        data = encode_command(line, headers)  # refuses line breaks: no smuggled commands
        if not self.connected:
            raise NodeUnavailable(
                f"node {self.name} is not connected ({self.last_error or self.state}); not sent: {line}")
        waiter = _Waiter(line, time.monotonic())
        with self._send_lock:
            if not self.connected:
                raise NodeUnavailable(f"node {self.name} disconnected; not sent: {line}")
            self._waiters.append(waiter)
            try:
                self._write(data)
            except ESLError:
                self._close()
                raise
        try:
            return waiter.result.get(timeout=timeout)
        except gevent.Timeout:
            waiter.abandoned = True
            raise ESLTimeout(f"node {self.name}: no answer to {line!r} within {timeout:g} s") from None

    def _write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise ESLDisconnected("not connected")
        try:
            with gevent.Timeout(WRITE_TIMEOUT, ESLTimeout(f"writing to {self.host}:{self.port} timed out")):
                sock.sendall(data)
        except OSError as exc:
            raise ESLDisconnected(f"writing to {self.host}:{self.port} failed: {exc}") from exc

    # -- reading ---------------------------------------------------------------------------

    def _read_loop(self) -> None:
        reason = "connection lost"
        sock = self._sock
        try:
            sock.settimeout(min(self.check_interval, self.idle_timeout))
            while True:
                try:
                    chunk = sock.recv(RECV_BYTES)
                except TimeoutError:
                    reason = self._check_health()
                    if reason:
                        return
                    continue
                except OSError as exc:
                    reason = f"read failed: {exc}"
                    return
                if not chunk:
                    reason = "closed by the node"
                    return
                self.last_received = time.monotonic()
                self._parser.feed(chunk)
                reason = self._drain_parser()
                if reason:
                    return
                reason = self._check_health()
                if reason:
                    return
        finally:
            if not self._stopping:
                self.last_error = reason
            self._close()

    def _check_health(self) -> str:
        now = time.monotonic()
        if now - self.last_received > self.idle_timeout:
            return f"nothing received for {self.idle_timeout:g} s (no HEARTBEAT)"
        oldest = self._waiters[0] if self._waiters else None
        if oldest is not None and oldest.abandoned and now - oldest.sent_at > self.wedge_timeout:
            return f"no answer to {oldest.command!r} for {self.wedge_timeout:g} s"
        return ""

    def _drain_parser(self) -> str:
        while True:
            try:
                message = self._parser.next()
            except ProtocolError as exc:
                self.protocol_errors += 1
                if exc.resync:
                    log.warning("node %s: skipped a malformed message: %s", self.name, exc)
                    continue
                log.error("node %s: unreadable stream, reconnecting: %s", self.name, exc)
                return f"unreadable stream: {exc}"
            if message is None:
                return ""
            if message.content_type == "text/disconnect-notice":
                return "the node said goodbye (disconnect-notice)"
            try:
                self._dispatch(message)
            except Exception:
                log.exception("node %s: failed to handle a %s", self.name, message.content_type or "message")

    def _dispatch(self, message: Message) -> None:
        kind = message.content_type
        if kind in ("command/reply", "api/response"):
            if not self._waiters:
                log.warning("node %s: unsolicited %s %r", self.name, kind, message.reply_text)
                return
            waiter = self._waiters.popleft()
            if waiter.abandoned:
                log.info("node %s: late answer to %r dropped", self.name, waiter.command)
            else:
                waiter.result.set(message)
        elif kind == "text/event-plain":
            self._on_event_message(message)
        elif kind not in ("log/data",):
            log.warning("node %s: ignored unexpected %r message", self.name, kind or "untyped")

    def _on_event_message(self, message: Message) -> None:
        event = message.event or {}
        name = event.get("Event-Name", "")
        if name == "BACKGROUND_JOB":
            job = self._jobs.get(event.get("Job-UUID", ""))
            if job is not None and not job.ready():
                job.set(message.event_body.decode("utf-8", errors="replace"))
        elif name == "HEARTBEAT":
            self.last_heartbeat = event
        if self._on_event is not None:
            self._on_event(self, message)

    # -- ending ----------------------------------------------------------------------------

    def _close(self) -> None:
        """Close the socket and fail every waiter: the answer will never come."""
        self._up.clear()
        if self.state == "up":
            self.state = "connecting"
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        error = f"node {self.name}: connection lost before the answer"
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.result.ready():
                waiter.result.set_exception(ESLDisconnected(f"{error} to {waiter.command!r}"))
        for job, result in list(self._jobs.items()):
            if not result.ready():
                result.set_exception(ESLDisconnected(f"{error}; job {job} may still run"))
