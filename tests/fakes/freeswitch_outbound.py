"""A fake FreeSWITCH that hands a call to our outbound event-socket server (what the
``socket 127.0.0.1:8084 async full`` dialplan application does), built from the captures
in ``tests/fixtures/freeswitch/esl/outbound/`` (copies of the shared captures of
FreeSWITCH 1.11.3-dev).

What comes from the captures, byte for byte apart from the values a test rewrites:

* the ``connect`` reply: the channel data of capture a (170 headers, every value
  URL-encoded, no Content-Length, ``Reply-Text: %2BOK%0A``, ``Control: full`` or, with
  ``full=False``, ``single-channel`` as in capture c);
* the replies to ``myevents`` (``+OK Events Enabled``, a second time
  ``-ERR aready enabled.``), ``linger`` (``+OK will linger`` / ``+OK will linger N
  seconds``; ``-ERR command not found`` without ``full``), ``sendmsg`` (``+OK``),
  ``exit`` (``+OK bye`` then the disconnect-notice and a close);
* every event: CHANNEL_EXECUTE, CHANNEL_ANSWER, CHANNEL_EXECUTE_COMPLETE, DTMF,
  CHANNEL_HANGUP, CHANNEL_UNPARK, CHANNEL_STATE, CHANNEL_HANGUP_COMPLETE are the captured
  events with Unique-ID, domain, destination, Application*, Event-Sequence and the
  app's result variables rewritten, framed ``Content-Length`` + ``Content-Type:
  text/event-plain`` + the header block with values encoded as switch_url_encode does
  (``tests/callcontrol/test_fake.py`` re-frames every captured event and compares bytes);
* the hangup sequence (captures a, b): CHANNEL_HANGUP, the running app's completion (a
  playback cut by a hangup still says ``FILE PLAYED``), CHANNEL_UNPARK, the ``socket``
  app's completion, CHANNEL_STATE CS_HANGUP and CS_REPORTING, CHANNEL_HANGUP_COMPLETE,
  then the ``linger`` disconnect-notice (``Linger-Time: -1`` or N); without linger (c)
  the ``disconnect`` notice and a close; ``linger N`` closes by itself N s later;
* a failed bridge (capture d): completion right after CHANNEL_EXECUTE,
  ``Application-Response: _none_``, ``DIALSTATUS`` / ``originate_disposition`` /
  ``originate_failed_cause`` = the cause.

Not captured, and marked so where built: a *successful* bridge (CHANNEL_BRIDGE /
CHANNEL_UNBRIDGE are the captured CHANNEL_EXECUTE renamed; DIALSTATUS=SUCCESS), ``record``
and ``transfer`` completions (generic completion with the variables mod_dptools sets),
and the reply to ``resume`` (``+OK``, as in mod_event_socket.c).

Observed on the bundled FreeSWITCH (1.11.3-dev, 2026-12-07, greenswitch's outbound session,
``tone_stream`` prompts), not captured byte for byte: an ``execute`` sent *without*
``event-lock`` while a playback that was itself sent without it is playing runs at once,
inside that playback, which pauses meanwhile (its completion comes after the nested one's).
With ``event-lock: true`` (what we send) each waits for the one before, as here by
default. ``variable_current_application`` names the app from its CHANNEL_EXECUTE on
(capture a).

Read from FreeSWITCH's source (the bundled build, git cc93a68) and followed here, not
captured: ``play_and_get_digits`` runs ``switch_play_and_get_digits`` and, per try,
``switch_ivr_read`` (``switch_ivr_play_say.c``) and ``switch_ivr_collect_digits_count``
(``switch_ivr.c``): the first key stops the prompt; the first key must come within the
timeout, each next one within the digit timeout; ``read_result`` is ``success`` for a
terminator or max digits, ``timeout`` for a timeout after at least ``min`` keys
(``failure`` below ``min``), unset when the prompt cannot be played; the variable holds
whatever was keyed (also too few keys), is cleared when the keys fail the (unanchored,
PCRE) regex, which then go to ``<var>_invalid``; the invalid prompt plays after every
failed try. After a failed ``bridge`` ``switch_channel_handle_cause`` (``switch_channel.c``)
hangs the caller up with the bridge's cause unless ``continue_on_fail`` (true or a list
of causes) or ``failure_causes`` lets the dialplan go on -- without either, only
NO_ANSWER, NO_USER_RESPONSE and ORIGINATOR_CANCEL do; an answered bridge hangs the caller
up when the peer hangs up if ``hangup_after_bridge`` is true (``switch_ivr_bridge.c``).
``DIALSTATUS`` after a failed bridge is ``NOANSWER``, ``BUSY``, ``CANCEL``, ``DONTCALL``,
``INVALIDARGS`` or the cause itself (``switch_ivr_originate.c``). The variables the
captured applications set (``read_result``, ``pagd_digits``, ``continue_on_fail``,
``DIALSTATUS`` ...) are left out of every event built from a capture unless this call set
them.

Checked on the bundled FreeSWITCH (2026-12-07, an outbound socket on a loopback call,
keys by ``uuid_recv_dtmf``, ``play_and_get_digits`` with min 1, 2 or 0, max 6, 2 s, ``#``, digit timeout 1 s):
``1`` then silence gives read_result=timeout with the variable ``1``; ``12#`` success
``12`` (read_terminator_used ``#``); ``123456`` success; nothing (min 1) failure, unset;
``1#`` and ``1`` with min 2 failure with the variable ``1``; ``12*`` timeout, variable
unset, ``_invalid`` ``12*``; nothing with min 0 timeout; ``#`` with min 0 success, unset;
a prompt file that cannot be opened: read_result unset at once. ``bridge`` with
``{leg_timeout=2}`` to a leg that never answers: ALLOTTED_TIMEOUT (DIALSTATUS too) and the
caller hung up with it, unless ``continue_on_fail=true``; USER_BUSY likewise (DIALSTATUS
BUSY); ``originate_timeout`` instead: NO_ANSWER (NOANSWER), and the dialplan goes on.

gevent-based: runs in the test's hub beside the server under test.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import gevent
import gevent.socket as gsocket
from gevent.event import Event
from gevent.lock import Semaphore
from gevent.queue import Empty, Queue

from esl.framing import fs_url_encode
from tests.fakes.freeswitch_esl import read_capture, split_messages

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "freeswitch" / "esl" / "outbound"
HAPPY = "a-full-happy-path"
CAPTURED_UUID = "53698a91-8454-492a-bd68-4803ebfae072"
CAPTURED_DOMAIN = "acme.example.net"
CAPTURED_DESTINATION = "9000"
DISCONNECT_BODY = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
# Set by the applications the captures ran (play_and_get_digits into pagd_digits, set
# continue_on_fail, bridge, playback): a fresh call has none of them.
CAPTURED_APP_VARIABLES = frozenset({
    "read_result", "read_terminator_used", "pagd_digits", "continue_on_fail",
    "originate_disposition", "DIALSTATUS", "originate_failed_cause", "dialed_user",
    "dialed_domain", "playback_last_offset_pos", "playback_seconds", "playback_ms",
    "playback_samples", "current_application_response",
})
# switch_channel_handle_cause: without continue_on_fail and failure_causes, the causes
# after which the dialplan goes on.
CONTINUE_BY_DEFAULT = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL"})
# switch_ivr_originate: DIALSTATUS of a failed originate (else the cause's name).
DIALSTATUS = {"ORIGINATOR_CANCEL": "CANCEL", "USER_BUSY": "BUSY", "NO_ANSWER": "NOANSWER",
              "DESTINATION_OUT_OF_ORDER": "INVALIDARGS", "INVALID_PROFILE": "INVALIDARGS",
              "CALL_REJECTED": "DONTCALL"}

Headers = list[tuple[str, str]]


# -- the captures ---------------------------------------------------------------------------


@functools.cache
def captured_stream(name: str, direction: str = "<<<") -> bytes:
    """Everything FreeSWITCH wrote (``<<<``) or the client wrote (``>>>``) on the
    outbound socket of capture ``name``."""
    records = read_capture(CAPTURES / f"{name}.log")
    return b"".join(r.data for r in records if r.direction == direction and r.connection == "outbound-8084")


@functools.cache
def captured_messages(name: str) -> tuple[bytes, ...]:
    return tuple(split_messages(captured_stream(name)))


def parse_block(block: bytes) -> Headers:
    """Header lines of a block, values decoded, order kept."""
    out = []
    for line in block.decode().split("\n"):
        if line:
            name, _, value = line.partition(": ")
            out.append((name, unquote(value)))
    return out


def frame_event(headers: Headers) -> bytes:
    """A plain event as mod_event_socket frames it."""
    body = "".join(f"{name}: {fs_url_encode(value)}\n" for name, value in headers) + "\n"
    data = body.encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


def frame_block(headers: Headers) -> bytes:
    """The connect reply: the channel data serialised (and encoded) with no body."""
    return ("".join(f"{name}: {fs_url_encode(value)}\n" for name, value in headers) + "\n").encode()


@functools.cache
def captured_events(name: str = HAPPY) -> tuple[tuple[str, str, Headers], ...]:
    """(Event-Name, Application, headers) of every event of a capture, in order."""
    out = []
    for message in captured_messages(name):
        head, _, body = message.partition(b"\n\n")
        if b"text/event-plain" in head:
            headers = parse_block(body.rstrip(b"\n"))
            values = dict(headers)
            out.append((values.get("Event-Name", ""), values.get("Application", ""), headers))
    return tuple(out)


def event_template(event_name: str, application: str = "", *, capture: str = HAPPY,
                   index: int = 0) -> Headers:
    matches = [h for n, a, h in captured_events(capture)
               if n == event_name and (not application or a == application)]
    return list(matches[index])


@functools.cache
def connect_reply_template() -> Headers:
    return parse_block(captured_messages(HAPPY)[0].rstrip(b"\n"))


def fs_true(value: str | None) -> bool:
    """switch_true (switch_utils.h)."""
    if not value:
        return False
    if value.lower() in ("yes", "on", "true", "t", "enabled", "active", "allow"):
        return True
    digits = re.match(r"-?\d+", value.strip())
    return digits is not None and int(digits.group()) != 0


def continues_after(cause: str, variables: dict[str, str]) -> bool:
    """Whether the dialplan goes on after a bridge failed with ``cause`` (else
    FreeSWITCH hangs the caller up): switch_channel_handle_cause, without its
    transfer_on_fail part."""
    if cause == "ATTENDED_TRANSFER":
        return False
    continue_on_fail = variables.get("continue_on_fail")
    failure_causes = variables.get("failure_causes")
    if continue_on_fail is None and failure_causes is None:
        return cause in CONTINUE_BY_DEFAULT
    if failure_causes is not None and cause.upper() not in failure_causes.upper().split(","):
        return True
    if continue_on_fail is not None:
        return fs_true(continue_on_fail) or cause.upper() in continue_on_fail.upper().split(",")
    return False


def command_reply(text: str) -> bytes:
    return b"Content-Type: command/reply\nReply-Text: " + text.encode() + b"\n\n"


# -- the fake call --------------------------------------------------------------------------


@dataclass
class Command:
    line: str
    headers: dict[str, str]


@dataclass
class Execution:
    app: str
    arg: str
    event_uuid: str
    event_lock: bool
    completed: Event
    response: str = ""


AppBehaviour = Callable[["FakeCall", Execution], "tuple[str, dict[str, str]] | None"]

_ids = itertools.count(1)


class FakeCall:
    """One call FreeSWITCH hands to ``address``::

        call = FakeCall(server.address, variables={"switchboard_app": "echo_digits"})
        call.wait_for_app("play_and_get_digits")
        call.press("12#")
        call.wait_closed()

    Knobs: ``playback_seconds`` (``playback_lengths``: per prompt), ``missing_files``
    (prompts FreeSWITCH cannot open), ``bridge_outcome`` (a
    cause, or "SUCCESS" with ``bridge_talk_seconds``), ``record_seconds``, ``hold`` (apps that
    never complete), ``behaviours`` (app name -> fn(call, execution) returning (response,
    variables), or None to leave it running), ``header_values`` (header -> value in the
    connect reply and every event that carries the header, e.g. a caller name the caller
    chose). Failure modes: ``hangup()`` (the caller hangs up),
    ``drop()`` (socket closed with no notice), ``send_raw()`` (garbage).
    """

    def __init__(self, address: tuple[str, int], *, variables: dict[str, str] | None = None,
                 domain: str = CAPTURED_DOMAIN, destination: str = CAPTURED_DESTINATION,
                 full: bool = True, uuid: str | None = None, connect: bool = True) -> None:
        self.address = address
        self.uuid = uuid or str(uuidlib.uuid4())
        self.domain = domain
        self.destination = destination
        self.full = full
        self.extra_variables = dict(variables or {})
        self.channel_variables: dict[str, str] = {}  # set while the call runs
        self.playback_seconds = 0.01
        self.playback_lengths: dict[str, float] = {}  # prompt -> seconds
        self.missing_files: set[str] = set()
        self.header_values: dict[str, str] = {}
        self.bridge_outcome = "USER_NOT_REGISTERED"
        self.bridge_talk_seconds = 0.05
        self.record_seconds = 0.05
        self.hold: set[str] = set()
        self.behaviours: dict[str, AppBehaviour] = {}
        self.commands: list[Command] = []
        self.executions: list[Execution] = []
        self.sent = bytearray()
        self.myevents = False
        self.lingering: int | None = None  # None: no linger; -1: until exit; N seconds
        self.answered = False
        self.hung_up = False
        self.hangup_cause = ""
        self.closed = Event()
        self.closed_by = ""  # "server" (EOF), "fake" (exit/linger/drop)
        self._sequence = itertools.count(10_000)
        self._write_lock = Semaphore()
        self._queue: Queue = Queue()
        self._dtmf: Queue = Queue()
        self._running: Execution | None = None
        self._nested: list[Execution] = []  # running inside self._running (no event-lock)
        self._greenlets: list[gevent.Greenlet] = []
        self._app_started = Event()
        self.sock = None
        if connect:
            self.sock = gsocket.create_connection(address, timeout=5)
            self.sock.settimeout(None)
            self._spawn(self._read_loop)
            self._spawn(self._execute_loop)

    # -- what the test does ----------------------------------------------------------------

    def press(self, digits: str) -> None:
        """DTMF from the caller (as ``uuid_recv_dtmf`` in capture a): a DTMF event each,
        and the digits go to a running play_and_get_digits."""
        for digit in digits:
            if self.myevents:
                self._send_event("DTMF", overrides={"DTMF-Digit": digit})
            self._dtmf.put(digit)

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """The caller hangs up (``uuid_kill`` in capture b)."""
        if self.hung_up or self.closed.is_set():
            return
        self.hung_up = True
        self.hangup_cause = cause
        self._spawn(self._hangup_sequence, cause)

    def drop(self) -> None:
        """FreeSWITCH closes the socket without a word."""
        self._close("fake")

    def send_raw(self, data: bytes) -> None:
        self._write(data)

    def wait_closed(self, timeout: float = 5.0) -> bool:
        return self.closed.wait(timeout)

    def wait_for_app(self, app: str, timeout: float = 5.0) -> Execution:
        """The first execution of ``app`` once FreeSWITCH has started it."""
        with gevent.Timeout(timeout, AssertionError(f"{app} was never executed")):
            while True:
                for execution in self.executions:
                    if execution.app == app:
                        return execution
                self._app_started.clear()
                self._app_started.wait(0.05)

    @property
    def apps(self) -> list[str]:
        return [e.app for e in self.executions]

    def cleanup(self) -> None:
        self._close("fake")
        for greenlet in self._greenlets:
            greenlet.kill(block=True, timeout=1)

    # -- protocol --------------------------------------------------------------------------

    def _spawn(self, fn, *args) -> gevent.Greenlet:
        greenlet = gevent.spawn(fn, *args)
        self._greenlets.append(greenlet)
        return greenlet

    def _write(self, data: bytes) -> None:
        if self.closed.is_set():
            return
        with self._write_lock:
            try:
                self.sock.sendall(data)
                self.sent += data
            except OSError:
                self._close("server")

    def _close(self, by: str) -> None:
        if self.closed.is_set():
            return
        self.closed_by = by
        self.closed.set()
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        for execution in self.executions:
            execution.completed.set()

    def _read_loop(self) -> None:
        buffer = b""
        while not self.closed.is_set():
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._close("server")
                return
            buffer += chunk
            while b"\n\n" in buffer:
                block, rest = buffer.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(headers.get("Content-Length", "0"))
                if len(rest) < length:
                    break
                buffer = rest[length:]
                command = Command(lines[0], headers)
                self.commands.append(command)
                self._handle(command)

    def _handle(self, command: Command) -> None:
        name, _, arg = command.line.partition(" ")
        if name == "connect":
            self._write(self._connect_reply())
        elif name == "myevents":
            if self.myevents:
                self._write(command_reply("-ERR aready enabled."))  # sic, capture c
            else:
                self.myevents = True
                self._write(command_reply("+OK Events Enabled"))
        elif name == "linger":
            if not self.full:
                self._write(command_reply("-ERR command not found"))
            elif arg:
                self.lingering = int(arg)
                self._write(command_reply(f"+OK will linger {int(arg)} seconds"))
            else:
                self.lingering = -1
                self._write(command_reply("+OK will linger"))
        elif name == "resume":
            self._write(command_reply("+OK"))
        elif name == "exit":
            self._write(command_reply("+OK bye"))
            self._write(self._disconnect_notice("disconnect"))
            self._close("fake")
        elif name == "sendmsg":
            self._write(command_reply("+OK"))
            call_command = command.headers.get("call-command", "")
            if call_command == "execute":
                execution = Execution(
                    command.headers.get("execute-app-name", ""), command.headers.get("execute-app-arg", ""),
                    command.headers.get("Event-UUID", str(uuidlib.uuid4())),
                    command.headers.get("event-lock") == "true", Event(),
                )
                if not self.hung_up:
                    self._queue.put(execution)
            elif call_command == "hangup" and not self.hung_up:
                self.hung_up = True
                self.hangup_cause = command.headers.get("hangup-cause", "NORMAL_CLEARING")
                self._spawn(self._hangup_sequence, self.hangup_cause)
        else:
            self._write(command_reply("-ERR command not found"))

    def _connect_reply(self) -> bytes:
        headers = [(n, self._rewrite(n, v)) for n, v in connect_reply_template()]
        if not self.full:
            headers = [(n, "single-channel" if n == "Control" else v) for n, v in headers]
        extra = [(f"variable_{k}", v) for k, v in self.extra_variables.items()]
        existing = {n for n, _ in headers}
        headers = [(n, self.extra_variables.get(n[9:], v) if n.startswith("variable_") else v)
                   for n, v in headers]
        extra = [(n, v) for n, v in extra if n not in existing]
        at = next(i for i, (n, _) in enumerate(headers) if n == "Content-Type")
        return frame_block(headers[:at] + extra + headers[at:])

    def _rewrite(self, name: str, value: str) -> str:
        if name in self.header_values:
            return self.header_values[name]
        value = value.replace(CAPTURED_UUID, self.uuid)
        if self.domain != CAPTURED_DOMAIN:
            value = value.replace(CAPTURED_DOMAIN, self.domain)
        if self.destination != CAPTURED_DESTINATION and name in (
                "Caller-Destination-Number", "Channel-Destination-Number", "variable_sip_req_user",
                "variable_sip_to_user"):
            value = self.destination
        if self.destination != CAPTURED_DESTINATION and name in (
                "variable_sip_req_uri", "variable_sip_to_uri", "variable_sip_full_to"):
            value = value.replace(f"{CAPTURED_DESTINATION}@", f"{self.destination}@")
        return value

    def _event(self, event_name: str, application: str = "", *, capture: str = HAPPY,
               overrides: dict[str, str] | None = None, rename: str = "") -> bytes:
        template = event_template(event_name, application, capture=capture)
        overrides = dict(overrides or {})
        overrides["Event-Sequence"] = str(next(self._sequence))
        headers: Headers = []
        merged = {**self.extra_variables, **self.channel_variables}
        variables = {f"variable_{k}": v for k, v in merged.items()}
        for name, value in template:
            if name.startswith("variable_") and name[9:] in CAPTURED_APP_VARIABLES and name not in variables:
                continue
            if name == "Event-Name" and rename:
                value = rename
            elif name in overrides:
                value = overrides.pop(name)
            elif name in variables:
                value = variables.pop(name)
            else:
                value = self._rewrite(name, value)
            headers.append((name, value))
        # New headers: channel variables before the Application* block, the rest at the end.
        at = next((i for i, (n, _) in enumerate(headers) if n.startswith("Application")), len(headers))
        if any(n.startswith("variable_") for n, _ in template):
            headers[at:at] = list(variables.items())
        headers.extend(overrides.items())
        return frame_event(headers)

    def _send_event(self, event_name: str, application: str = "", **kwargs) -> None:
        if self.myevents and not self.closed.is_set():
            self._write(self._event(event_name, application, **kwargs))

    def _disconnect_notice(self, disposition: str) -> bytes:
        lines = [
            "Content-Type: text/disconnect-notice",
            f"Controlled-Session-UUID: {self.uuid}",
            f"Content-Disposition: {disposition}",
        ]
        if disposition == "linger":
            lines += [f"Channel-Name: sofia/internal/1001@{self.domain}", f"Linger-Time: {self.lingering}",
                      "Content-Length: 0"]
            return ("\n".join(lines) + "\n\n").encode()
        lines.append(f"Content-Length: {len(DISCONNECT_BODY)}")
        return ("\n".join(lines) + "\n\n").encode() + DISCONNECT_BODY

    # -- applications ----------------------------------------------------------------------

    def _execute_loop(self) -> None:
        while not self.closed.is_set():
            try:
                execution = self._queue.get(timeout=0.05)
            except Empty:
                continue
            if self.hung_up:
                return
            self._running = execution
            if self._run_execution(execution):
                self._running = None

    def _start_nested(self) -> None:
        """Called from the running playback: FreeSWITCH's play loop runs the executes
        queued meanwhile unless an event lock holds them (observed with both the playback
        and the queued execute unlocked; see the module docstring)."""
        while not self._queue.empty():
            queued = self._queue.peek(block=False)
            if queued.event_lock:
                return
            self._queue.get(block=False)
            self._nested.append(queued)
            self._spawn(self._run_nested, queued)

    def _run_nested(self, execution: Execution) -> None:
        try:
            self._run_execution(execution)
        finally:
            self._nested.remove(execution)

    def _run_execution(self, execution: Execution) -> bool:
        """CHANNEL_EXECUTE, the app, CHANNEL_EXECUTE_COMPLETE; False if the app was held or
        cut by the hangup sequence (which sends the completion)."""
        self.executions.append(execution)
        self._app_started.set()
        app_template = "answer" if execution.app not in ("playback", "play_and_get_digits", "set",
                                                         "bridge") else execution.app
        capture = "d-bridge-unregistered-user" if app_template in ("set", "bridge") else HAPPY
        application = {
            "Application": execution.app, "Application-Data": execution.arg,
            "Application-UUID": execution.event_uuid,
        }
        if not execution.arg:
            application.pop("Application-Data")
        self.channel_variables["current_application"] = execution.app
        self._send_event("CHANNEL_EXECUTE", app_template, capture=capture, overrides=application)
        outcome = self._run_app(execution)
        if outcome is None:  # held, or cut by the hangup sequence
            execution.completed.wait()
            return False
        response, variables = outcome
        self.channel_variables.update(variables)
        if execution.app == "bridge":
            cause = self._hangup_after_bridge(variables)
            if cause:
                # The caller's channel hangs up inside the bridge application: CHANNEL_HANGUP
                # first, then the bridge's completion (from the hangup sequence).
                self.hangup(cause)
                execution.completed.wait()
                return False
        self._complete(execution, response, app_template, capture)
        return True

    def _hangup_after_bridge(self, outcome: dict[str, str]) -> str:
        """The cause FreeSWITCH hangs the caller up with when this bridge returns, or "":
        a failure the dialplan may not go on after (switch_channel_handle_cause), or an
        answered bridge with hangup_after_bridge (switch_ivr_multi_threaded_bridge)."""
        variables = {**self.extra_variables, **self.channel_variables}
        if outcome.get("DIALSTATUS") == "SUCCESS":
            if fs_true(variables.get("hangup_after_bridge")):
                return outcome.get("bridge_hangup_cause") or "NORMAL_CLEARING"
            return ""
        cause = outcome.get("originate_failed_cause") or outcome.get("originate_disposition", "")
        return "" if not cause or continues_after(cause, variables) else cause

    def _complete(self, execution: Execution, response: str, app_template: str = "answer",
                  capture: str = HAPPY) -> None:
        if execution.completed.is_set():
            return
        execution.response = response
        overrides = {
            "Application": execution.app, "Application-Data": execution.arg,
            "Application-Response": response, "Application-UUID": execution.event_uuid,
        }
        if not execution.arg:
            overrides.pop("Application-Data")
        self.channel_variables["current_application"] = execution.app
        self._send_event("CHANNEL_EXECUTE_COMPLETE", app_template, capture=capture, overrides=overrides)
        execution.completed.set()

    def _sleep_unless_hangup(self, seconds: float) -> bool:
        """False if the call hung up meanwhile."""
        with gevent.Timeout(seconds, False):
            while not self.hung_up and not self.closed.is_set():
                gevent.sleep(0.005)
        return not self.hung_up and not self.closed.is_set()

    def _play(self, execution: Execution, seconds: float) -> bool:
        """A prompt ``seconds`` long; its clock stops while another app runs nested in
        it. False if the call hung up meanwhile."""
        end = last = time.monotonic()
        end += seconds
        while not self.hung_up and not self.closed.is_set():
            now = time.monotonic()
            if execution is self._running and not execution.event_lock:
                self._start_nested()
            if execution is self._running and self._nested:
                end += now - last
            last = now
            if now >= end:
                return True
            gevent.sleep(min(end - now, 0.005))
        return False

    def _run_app(self, execution: Execution) -> tuple[str, dict[str, str]] | None:
        if execution.app in self.hold:
            return None
        if execution.app in self.behaviours:
            return self.behaviours[execution.app](self, execution)
        app = execution.app
        if app == "answer":
            if not self.answered:
                self.answered = True
                self._send_event("CHANNEL_ANSWER")
            return "_none_", {}
        if app == "playback":
            seconds = self.playback_lengths.get(execution.arg, self.playback_seconds)
            if not self._play(execution, seconds):
                return None
            return "FILE PLAYED", {"playback_ms": str(round(seconds * 1000))}
        if app == "play_and_get_digits":
            return self._play_and_get_digits(execution)
        if app == "set":
            name, _, value = execution.arg.partition("=")
            return "_none_", {name: value}
        if app == "bridge":
            return self._bridge()
        if app == "record":
            if not self._sleep_unless_hangup(self.record_seconds):
                return None
            ms = str(round(self.record_seconds * 1000))
            return "_none_", {"record_ms": ms, "record_seconds": str(round(self.record_seconds))}
        if app == "transfer":
            return "_none_", {}
        return "_none_", {}

    def _play_and_get_digits(self, execution: Execution) -> tuple[str, dict[str, str]] | None:
        """switch_play_and_get_digits as mod_dptools calls it (see the module docstring):
        ``min max tries timeout_ms terminators file invalid_file var regex digit_timeout_ms``.
        Sets and unsets the channel variables itself; None if the caller hung up."""
        args = execution.arg.split(" ")

        def arg(index: int, default: str = "") -> str:
            return args[index] if len(args) > index else default

        minimum = max(0, int(arg(0, "0")))
        maximum = max(int(arg(1, "0") or 0), minimum)
        tries = int(arg(2, "0") or 0)
        timeout = max(int(arg(3, "1000") or 0), 1000) / 1000  # mod_dptools: at least 1 s
        terminators = arg(4) or "#"
        prompt, invalid, var, regex = arg(5), arg(6), arg(7), arg(8)
        digit_timeout = (int(arg(9, "0") or 0) / 1000) or timeout
        if regex and var:
            self._unset(f"{var}_invalid")
        while tries > 0 and not self.hung_up:
            read = self._read_digits(minimum, maximum, prompt, var, timeout, terminators, digit_timeout)
            if read is None:
                return None
            status, digits = read
            if status == "restart":
                return "_none_", {}
            if status == "timeout" and len(digits) >= minimum:
                status = "success"
            if minimum == 0 and not digits and "read_terminator_used" in self.channel_variables:
                return "_none_", {}
            if status == "success" and digits:
                if not regex or re.search(regex, digits) is not None:
                    return "_none_", {}
                self._unset(var)
                if var:
                    self.channel_variables[f"{var}_invalid"] = digits
            if not self._play_file(invalid):
                return None
            tries -= 1
        return "_none_", {}

    def _read_digits(self, minimum: int, maximum: int, prompt: str, var: str, timeout: float,
                     terminators: str, digit_timeout: float) -> tuple[str, str] | None:
        """One try: switch_ivr_read with switch_ivr_collect_digits_count. (status, digits)
        with status success / timeout / too_small / failure / restart; None on hangup."""
        term_required = terminators.startswith("=")
        self._unset("read_result")
        self._unset(var)
        digits, used, status = "", "", "success"
        if prompt and prompt.lower() != "silence":
            if prompt in self.missing_files:
                status = "false"  # switch_ivr_play_file fails: straight to the end
            else:
                first = self._prompt_or_key(prompt)
                if first is None:
                    return None
                digits = first
        if status == "success" and len(digits) < maximum:
            status = "false"
            hit = next((i for i, d in enumerate(digits) if d in terminators), None)
            if hit is not None:  # a terminator keyed during the prompt
                used, digits, status = digits[hit], digits[:hit], "success"
            else:
                wait = digit_timeout if digits else timeout
                while True:
                    digit = self._next_digit(wait)
                    if digit is None:
                        return None
                    if digit == "":
                        status = "timeout"
                        break
                    if digit in terminators:
                        used, status = digit, "success"
                        break
                    digits += digit
                    wait = digit_timeout
                    if len(digits) >= maximum:
                        status = "success"
                        break
        if status != "false":
            if used:
                self.channel_variables["read_terminator_used"] = used
                at = terminators.find(used)
                if at >= 1 and terminators[at - 1] in "+x":
                    digits += used
                    if terminators[at - 1] == "x":
                        status = "restart"
            elif term_required:
                status = "too_small"
            if minimum and len(digits) < minimum:
                status = "too_small"
            self.channel_variables["read_result"] = {"success": "success", "timeout": "timeout"}.get(
                status, "failure")
        if status != "restart" and maximum == 1 and len(digits) == 1 and digits in terminators:
            digits = ""
        if var and digits:
            self.channel_variables[var] = digits
        return status, digits

    def _unset(self, name: str) -> None:
        if name:
            self.channel_variables.pop(name, None)

    def _next_digit(self, timeout: float) -> str | None:
        """The next key within ``timeout`` ("" if none), None if the call hung up."""
        deadline = time.monotonic() + timeout
        while not self.hung_up and not self.closed.is_set():
            try:
                return self._dtmf.get(timeout=max(0.0, min(0.02, deadline - time.monotonic())))
            except Empty:
                if time.monotonic() >= deadline:
                    return ""
        return None

    def _prompt_or_key(self, prompt: str) -> str | None:
        """A prompt that the first key stops: that key ("" if it played to its end), None
        on hangup."""
        return self._next_digit(self.playback_lengths.get(prompt, self.playback_seconds))

    def _play_file(self, prompt: str) -> bool:
        """A prompt no key stops (switch_ivr_play_file without input args); False on hangup."""
        if not prompt or prompt in self.missing_files:
            return not self.hung_up
        return self._sleep_unless_hangup(self.playback_lengths.get(prompt, self.playback_seconds))

    def _bridge(self) -> tuple[str, dict[str, str]] | None:
        cause = self.bridge_outcome
        if cause != "SUCCESS":
            return "_none_", {"originate_disposition": cause, "DIALSTATUS": DIALSTATUS.get(cause, cause),
                              "originate_failed_cause": cause}
        # Not captured: CHANNEL_BRIDGE / CHANNEL_UNBRIDGE are the captured CHANNEL_EXECUTE renamed.
        self._send_event("CHANNEL_EXECUTE", "answer", rename="CHANNEL_BRIDGE")
        if not self._sleep_unless_hangup(self.bridge_talk_seconds):
            return None
        self._send_event("CHANNEL_EXECUTE", "answer", rename="CHANNEL_UNBRIDGE")
        return "_none_", {"DIALSTATUS": "SUCCESS", "originate_disposition": "SUCCESS",
                          "bridge_hangup_cause": "NORMAL_CLEARING"}

    # -- the end ---------------------------------------------------------------------------

    def _hangup_sequence(self, cause: str) -> None:
        """Captures a and b, in that order."""
        state = {"Hangup-Cause": cause}
        self.channel_variables["hangup_cause"] = cause
        self._send_event("CHANNEL_HANGUP", overrides=dict(state))
        for running in [*reversed(self._nested), self._running]:
            if running is not None and not running.completed.is_set():
                response = "FILE PLAYED" if running.app == "playback" else "_none_"
                self._complete(running, response)
        self._send_event("CHANNEL_UNPARK", overrides=dict(state))
        socket_app = event_template("CHANNEL_EXECUTE_COMPLETE", "socket")
        socket_uuid = dict(socket_app)["Application-UUID"]
        self._send_event("CHANNEL_EXECUTE_COMPLETE", "socket",
                         overrides={**state, "Application-UUID": socket_uuid})
        if self.myevents:
            for index in (0, 1):  # CS_HANGUP, CS_REPORTING
                self._write(frame_event(self._state_event(index, cause)))
        self._send_event("CHANNEL_HANGUP_COMPLETE", overrides=dict(state))
        if self.lingering is None:
            self._write(self._disconnect_notice("disconnect"))
            self._close("fake")
            return
        self._write(self._disconnect_notice("linger"))
        if self.lingering >= 0:
            gevent.sleep(self.lingering)
            self._write(self._disconnect_notice("disconnect"))
            self._close("fake")

    def _state_event(self, index: int, cause: str) -> Headers:
        template = event_template("CHANNEL_STATE", index=index)
        out = []
        merged = {**self.extra_variables, **self.channel_variables}
        for name, value in template:
            if name.startswith("variable_") and name[9:] in CAPTURED_APP_VARIABLES and name[9:] not in merged:
                continue
            if name == "Event-Sequence":
                value = str(next(self._sequence))
            elif name == "Hangup-Cause":
                value = cause
            else:
                value = self._rewrite(name, value)
            out.append((name, value))
        return out


def framing_of(name: str) -> list[bytes]:
    """Every message FreeSWITCH sent in capture ``name`` (for the fidelity tests)."""
    return list(captured_messages(name))
