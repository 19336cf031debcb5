"""One outbound event-socket connection (FreeSWITCH's ``socket`` application dialled us),
on gevent sockets.

Why not greenswitch's ``OutboundSession`` (greenswitch 0.0.19 is a project dependency,
and was read against the captures before deciding):

* its blocking ``call_command`` sends no ``Event-UUID`` and matches the completion on
  ``variable_current_application``: two ``playback`` commands in a row (or a completion
  for an app started by someone else, e.g. the ``socket`` app's own completion at
  hangup) are indistinguishable, and it sends no ``event-lock``;
* ``send()`` waits for the command reply without any timeout, and ``connect()`` /
  ``stop()`` go through it, so a FreeSWITCH that stalls holds the greenlet forever;
* a socket closed without a ``text/disconnect-notice`` (FreeSWITCH crash, network) wakes
  no waiter; ``_read_socket`` loops forever on EOF in the middle of a body; the reply to
  ``exit`` and the disconnect-notice body are not read as framed messages;
* ``ESLEvent.parse_data`` URL-decodes the whole block before splitting it into lines, so
  an encoded line break inside a caller-controlled value (caller name, SIP headers) forges
  header lines (``Application-UUID``, ``Event-Name`` ...);
* each session costs two greenlets, one of them polling its queue every second (that
  second is added to every hangup), and ``OutboundESLServer`` polls ``accept`` every 0.1 s.

Wrapping would mean replacing its reader, its ``send``, its event parser and its
dispatcher -- all of it. The protocol is small, so this module implements it directly:
one reader greenlet per call (framing in :mod:`esl.framing`), commands
answered in order (a lock keeps one command in flight), ``execute`` correlated by the
``Event-UUID`` we generate, which FreeSWITCH echoes as ``Application-UUID`` in
CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE (captures a and b). Every wait has a
deadline; the end of the call (CHANNEL_HANGUP, a disconnect-notice, EOF, a broken
stream) wakes every waiter at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid as uuidlib
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from esl.framing import EventHeaders, Message, Parser, ProtocolError, encode_command
from esl.variables import ChannelVariables

log = logging.getLogger(__name__)

DEFAULT_REPLY_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
RECV_BYTES = 65536

# Greenlets this module spawned and that have not finished (tests assert it empties).
LIVE_GREENLETS: weakref.WeakSet[gevent.Greenlet] = weakref.WeakSet()


class CallControlError(Exception):
    """Base of call-control errors."""


class CommandTimeout(CallControlError):
    """A command's reply or completion did not come in time."""


class CommandFailed(CallControlError):
    """FreeSWITCH answered a command with ``-ERR``."""


class CallEnded(CallControlError):
    """The call is over: nothing more can be done with it.

    ``reason`` is ``hangup`` (CHANNEL_HANGUP), ``disconnect`` (FreeSWITCH's
    disconnect-notice), ``eof`` (the socket closed or broke), ``protocol`` (the stream
    could not be read), ``local`` (we hung up or released it); ``cause`` the hangup cause
    when known."""

    def __init__(self, reason: str, cause: str = "") -> None:
        self.reason = reason
        self.cause = cause
        super().__init__(f"call ended ({reason}{', ' + cause if cause else ''})")


class CallerHungUp(CallEnded):
    """The far end ended the call (caller hangup, FreeSWITCH dropped the socket)."""


@dataclass
class _Pending:
    app: str
    result: AsyncResult = field(default_factory=AsyncResult)
    deadline: float = 0.0
    extend_on: str = ""
    extend_by: float = 0.0
    started: bool = False  # CHANNEL_EXECUTE seen


class OutboundConnection:
    """The protocol side of one call. :class:`callcontrol.session.CallSession` is the
    straight-line API on top; apps should not need this class."""

    def __init__(self, sock, address=None, *, reply_timeout: float = DEFAULT_REPLY_TIMEOUT) -> None:
        self.sock = sock
        self.address = address
        self.reply_timeout = reply_timeout
        self.channel: dict[str, str] = {}  # the connect reply (channel data)
        # Channel variables, "variable_" stripped; each event's are folded in when read.
        self.variables: dict[str, str] = ChannelVariables()
        self.control = ""  # "full" or "single-channel"
        self.lingering = False
        self.ended: CallEnded | None = None  # set once, when the call is over
        self.closed = False  # socket closed (by either side)
        self.hangup_cause = ""
        self.events_seen = 0
        self.protocol_errors = 0
        self._parser = Parser()
        self._replies: deque[AsyncResult] = deque()
        self._send_lock = Semaphore()
        self._pending: dict[str, _Pending] = {}
        self._dtmf: deque[str] = deque()
        self._dtmf_waiters: deque[AsyncResult] = deque()
        self._hungup = Event()
        self._hangup_requested = False
        self._listeners: list[Callable[[Message], None]] = []
        self._reader: gevent.Greenlet | None = None

    @property
    def uuid(self) -> str:
        return self.channel.get("Unique-ID", "")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._reader = gevent.spawn(self._read_loop)
        LIVE_GREENLETS.add(self._reader)

    def handshake(self, *, linger: bool = True, timeout: float | None = None) -> dict[str, str]:
        """``connect`` (its reply is the channel data), ``myevents``, ``linger``. Without
        ``full`` FreeSWITCH refuses ``linger`` (capture c): the session then learns of the
        hangup from the final disconnect-notice."""
        if self._reader is None:
            self.start()
        reply = self.command("connect", timeout=timeout)
        if "Event-Name" not in reply.headers or not reply.reply_text.startswith("+OK"):
            raise ProtocolError(f"unexpected connect reply {reply.reply_text!r}")
        self.channel = reply.headers
        self.variables = ChannelVariables(
            {k[9:]: v for k, v in reply.headers.items() if k.startswith("variable_")})
        self.control = reply.headers.get("Control", "")
        events = self.command("myevents", timeout=timeout)
        if not events.reply_text.startswith("+OK"):
            log.info("call %s: myevents answered %r", self.uuid, events.reply_text)
        if linger:
            answer = self.command("linger", timeout=timeout)
            self.lingering = answer.reply_text.startswith("+OK")
        return self.channel

    def release(self, *, timeout: float = 1.0) -> None:
        """End our side: ``exit`` if the socket is still open (FreeSWITCH answers
        ``+OK bye`` and closes), close the socket, stop the reader. Idempotent."""
        if not self.closed:
            with contextlib.suppress(CallControlError, OSError):
                self.command("exit", timeout=timeout)
        self._close(CallEnded("local"))
        reader = self._reader
        if reader is not None and not reader.dead:
            reader.join(timeout)
            if not reader.dead:
                reader.kill(block=True, timeout=timeout)

    def add_listener(self, listener: Callable[[Message], None]) -> None:
        """Called (in the reader greenlet; must not block) with every event."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Message], None]) -> None:
        self._listeners.remove(listener)

    # -- commands --------------------------------------------------------------------------

    def command(self, line: str, headers: dict[str, str] | None = None, *,
                timeout: float | None = None) -> Message:
        """Send one command and return its ``command/reply``. FreeSWITCH answers commands
        in order; the lock keeps one in flight so replies cannot be misattributed."""
        data = encode_command(line, headers)
        timeout = self.reply_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not self._send_lock.acquire(timeout=timeout):
            raise CommandTimeout(f"{line}: another command's reply is overdue")
        try:
            if self.closed:
                raise self._ended_error()
            waiter = AsyncResult()
            self._replies.append(waiter)
            try:
                with gevent.Timeout(WRITE_TIMEOUT, CommandTimeout(f"{line}: write timed out")):
                    self.sock.sendall(data)
            except OSError as exc:
                self._close(CallerHungUp("eof"))
                raise self._ended_error() from exc
            try:
                return waiter.get(timeout=max(deadline - time.monotonic(), 0))
            except gevent.Timeout:
                # The reply may still come: the stream would then be out of step.
                self._close(CallEnded("protocol"))
                raise CommandTimeout(f"no reply to {line!r} within {timeout:g} s") from None
        finally:
            self._send_lock.release()

    def execute(self, app: str, arg: str = "", *, timeout: float, extend_on: str = "",
                extend_by: float = 0.0) -> Message:
        """Run a dialplan application and return its CHANNEL_EXECUTE_COMPLETE.

        ``timeout`` bounds the wait for the completion. ``extend_on``: an event (e.g.
        CHANNEL_BRIDGE) that, seen while the app runs, moves the deadline to ``extend_by``
        seconds from then (a bridge rings for ``timeout`` then lasts the conversation).
        The caller hanging up raises :class:`CallerHungUp` at once."""
        self.check_alive()
        event_uuid = str(uuidlib.uuid4())
        pending = _Pending(app, deadline=time.monotonic() + timeout, extend_on=extend_on,
                           extend_by=extend_by)
        headers = {"call-command": "execute", "execute-app-name": app}
        if arg:
            headers["execute-app-arg"] = arg
        headers["event-lock"] = "true"
        headers["Event-UUID"] = event_uuid
        self._pending[event_uuid] = pending
        try:
            reply = self.command("sendmsg", headers)
            if not reply.reply_text.startswith("+OK"):
                self.check_alive()
                raise CommandFailed(f"{app} {arg}: {reply.reply_text}")
            while True:
                remaining = pending.deadline - time.monotonic()
                try:
                    return pending.result.get(timeout=max(remaining, 0))
                except gevent.Timeout:
                    if pending.deadline - time.monotonic() > 0:
                        continue  # extended meanwhile
                    raise CommandTimeout(
                        f"{app} {arg}: no CHANNEL_EXECUTE_COMPLETE within {timeout:g} s"
                    ) from None
        finally:
            self._pending.pop(event_uuid, None)

    def hangup(self, cause: str = "NORMAL_CLEARING", *, timeout: float = 5.0) -> None:
        """``sendmsg`` hangup, then wait (bounded) for FreeSWITCH to report it."""
        if self.ended is not None:
            return
        self._hangup_requested = True
        self.command("sendmsg", {"call-command": "hangup", "hangup-cause": cause})
        if not self._hungup.wait(timeout):
            raise CommandTimeout(f"no CHANNEL_HANGUP within {timeout:g} s of our hangup")
        if self.ended is None:
            self.ended = CallEnded("local", cause)

    def next_dtmf(self, timeout: float) -> str | None:
        """The next DTMF digit received (buffered since the call started), or None."""
        self.check_alive()
        if self._dtmf:
            return self._dtmf.popleft()
        waiter = AsyncResult()
        self._dtmf_waiters.append(waiter)
        try:
            return waiter.get(timeout=timeout)
        except gevent.Timeout:
            return None
        finally:
            if waiter in self._dtmf_waiters:
                self._dtmf_waiters.remove(waiter)

    def flush_dtmf(self) -> None:
        """Forget buffered digits (an application such as play_and_get_digits consumed
        them inside FreeSWITCH; the DTMF events still reach us)."""
        self._dtmf.clear()

    def check_alive(self) -> None:
        if self.ended is not None:
            raise self._ended_error()

    def wait_ended(self, timeout: float) -> bool:
        return self._hungup.wait(timeout)

    def _ended_error(self) -> CallEnded:
        ended = self.ended or CallerHungUp("eof")
        return type(ended)(ended.reason, ended.cause)

    # -- reading ---------------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    chunk = self.sock.recv(RECV_BYTES)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._close(CallerHungUp("eof", self.hangup_cause))
                    return
                self._parser.feed(chunk)
                while True:
                    try:
                        message = self._parser.next()
                    except ProtocolError as exc:
                        self.protocol_errors += 1
                        if exc.resync:
                            log.warning("call %s: skipped a malformed message: %s", self.uuid or "?", exc)
                            continue
                        log.error("call %s: unreadable stream, dropping the call: %s",
                                  self.uuid or "?", exc)
                        self._close(CallerHungUp("protocol"))
                        return
                    if message is None:
                        break
                    try:
                        self._dispatch(message)
                    except Exception:
                        log.exception("call %s: failed to handle a %s", self.uuid or "?",
                                      message.content_type)
        finally:
            self._wake_all()

    def _dispatch(self, message: Message) -> None:
        kind = message.content_type
        if kind in ("command/reply", "api/response"):
            if self._replies:
                self._replies.popleft().set(message)
            else:
                log.warning("call %s: unsolicited %s %r", self.uuid or "?", kind, message.reply_text)
        elif kind == "text/event-plain":
            self._on_event(message)
        elif kind == "text/disconnect-notice":
            disposition = message.headers.get("Content-Disposition", "")
            if disposition == "linger":
                # The channel is gone; events still arrive until we say exit.
                self._end(CallerHungUp("hangup", self.hangup_cause))
            else:
                self._end(CallerHungUp("disconnect", self.hangup_cause))
        else:
            log.warning("call %s: ignored unexpected %r message", self.uuid or "?", kind or "untyped")

    def _on_event(self, message: Message) -> None:
        self.events_seen += 1
        event = message.event or {}
        name = event.get("Event-Name", "")
        variables = self.variables
        if isinstance(event, EventHeaders) and isinstance(variables, ChannelVariables):
            variables.fold(event.raw)  # decoded only if something reads the variables
        else:
            for key, value in event.items():
                if key.startswith("variable_"):
                    variables[key[9:]] = value
        if name == "CHANNEL_EXECUTE_COMPLETE" or name == "CHANNEL_EXECUTE":
            pending = self._pending.get(event.get("Application-UUID", ""))
            if pending is None:
                if event.get("Application") != "socket":
                    log.debug("call %s: %s of %s not ours", self.uuid, name, event.get("Application"))
            elif name == "CHANNEL_EXECUTE":
                pending.started = True
            elif not pending.result.ready():
                pending.result.set(message)
        elif name == "DTMF":
            digit = event.get("DTMF-Digit", "")
            while self._dtmf_waiters:
                waiter = self._dtmf_waiters.popleft()
                if not waiter.ready():
                    waiter.set(digit)
                    break
            else:
                self._dtmf.append(digit)
        elif name == "CHANNEL_HANGUP" or name == "CHANNEL_HANGUP_COMPLETE":
            self.hangup_cause = event.get("Hangup-Cause", self.hangup_cause)
            self._end(CallerHungUp("hangup", self.hangup_cause))
        if name:
            for pending in self._pending.values():
                if pending.extend_on == name:
                    pending.deadline = time.monotonic() + pending.extend_by
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:
                log.exception("call %s: event listener failed on %s", self.uuid, name)

    # -- ending ----------------------------------------------------------------------------

    def _end(self, ended: CallEnded) -> None:
        """The call is over (the socket may stay open while lingering)."""
        if self.ended is None:
            if self._hangup_requested and isinstance(ended, CallerHungUp):
                ended = CallEnded("local", ended.cause)
            self.ended = ended
        self._hungup.set()
        self._wake_waiters()

    def _close(self, ended: CallEnded) -> None:
        self._end(ended)
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()
        self._wake_all()

    def _wake_waiters(self) -> None:
        error = self._ended_error()
        for pending in list(self._pending.values()):
            if not pending.result.ready():
                pending.result.set_exception(type(error)(error.reason, error.cause))
        while self._dtmf_waiters:
            waiter = self._dtmf_waiters.popleft()
            if not waiter.ready():
                waiter.set_exception(type(error)(error.reason, error.cause))

    def _wake_all(self) -> None:
        self._wake_waiters()
        if self.closed or (self._reader is not None and self._reader.dead):
            while self._replies:
                waiter = self._replies.popleft()
                if not waiter.ready():
                    waiter.set_exception(self._ended_error())
