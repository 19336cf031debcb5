"""A fake FreeSWITCH inbound event socket (mod_event_socket on :8021) for tests.

Built from the capture ``tests/fixtures/freeswitch/esl/inbound/session.log`` (a copy of the
shared capture of FreeSWITCH 1.11.3-dev): the greeting, the auth answers (``+OK accepted``;
``-ERR invalid`` followed by the disconnect-notice and a close), the ``exit`` answer, the
answer to ``event plain ...`` and the answer of every ``api`` command in the capture are
sent as the exact bytes FreeSWITCH sent. Other ``api`` commands get an ``api/response``
framed as FreeSWITCH frames it (``Content-Type: api/response\\nContent-Length: N\\n\\n`` +
body, mod_event_socket.c); ``tests/fsnodes/test_fake_esl.py`` checks that framing against
every api/response of the capture.

Events (``event plain NAMES``; ``CUSTOM`` plus subclass names subscribe to those
subclasses) are the captured events with their values rewritten, framed
``Content-Length`` + ``Content-Type: text/event-plain`` + header lines whose values are
URL-encoded as switch_url_encode does (``fd00%3A%3A2``), an inner ``Content-Length`` and
body when the event has one (BACKGROUND_JOB). ``test_fake_esl.py`` re-frames every captured
event and compares bytes.

* ``bgapi CMD`` (optionally with a ``Job-UUID`` header, which FreeSWITCH uses as captured):
  ``+OK Job-UUID: U`` with a ``Job-UUID`` header, then BACKGROUND_JOB (``Job-UUID``,
  ``Job-Command``, ``Job-Command-Arg``) whose body is what ``api CMD`` would answer.
  ``bgapi_delay`` delays the event, ``hold_jobs`` never sends it.
* ``originate``: ``+OK <uuid>`` (the ``origination_uuid`` given, else a new one), or
  ``originate_result`` (e.g. ``-ERR NO_ANSWER``).
* Conferences: ``join()`` / ``leave()`` put members in and out of rooms and emit what
  mod_conference emits (conference-create, add-member, del-member, conference-destroy);
  ``conference NAME list|mute|unmute|deaf|undeaf|kick|hup|lock|unlock|record|norecord``
  change the room, answer as captured (``+OK mute 1``, ``+OK kicked 2``,
  ``+OK NAME locked``, ``-ERR Conference NAME not found``) and emit the captured events
  (kick: kick-member, del-member, CHANNEL_HANGUP_COMPLETE). ``conference list`` lists
  every room. Not captured, built from the nearest captured event or from mod_conference
  and marked so below: unmute-member, unlock, start-/stop-recording, the replies to
  unmute/unlock/record/norecord, the all-rooms list header, ``-ERR Non-Existant ID N``
  (from the reference page), HEARTBEAT.

Registrations: ``register()`` puts a phone in the fake's sofia table; ``sofia xmlstatus
profile internal reg`` lists them in the captured answer's shape
(``tests/fixtures/freeswitch/esl/inbound/registrations/xmlstatus-reg.xml``: each row is the
captured row with its values replaced, escaped as mod_sofia escapes them; another profile
is ``Invalid Profile!``), and ``sofia profile internal flush_inbound_reg [ARG]`` drops
what sofia_reg_expire_call_id drops (the call-id, ``user@host``, or every row of a host;
no argument: all) with mod_sofia's reply. ``show registrations`` (the core table) is not
faked: the dashboard no longer reads it.

Failure modes: ``stop()`` closes the port (node down; ``start()`` again reopens the same
port), ``drop_connections()`` closes the open connections but keeps listening, a
``password`` different from the client's (wrong password), ``reply_delay`` and
``slow_commands`` (slow answers, for timeouts), ``api_replies`` (any body for a command,
e.g. ``-ERR ...``), ``send_raw()`` (garbage to every subscribed connection).
Everything received is recorded in ``received`` (``api_commands`` for just the api ones).
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from esl.framing import fs_url_encode

CAPTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "freeswitch" / "esl" / "inbound" / "session.log"
)
CAPTURED_PASSWORD = "ClueCon"
REGISTRATIONS_CAPTURE = CAPTURE.parent / "registrations"

_RECORD = re.compile(rb"^#### \+([0-9.]+) (<<<|>>>|---) (.*)$")
_DATA = re.compile(rb"^(?:received|sent) \[([^\]]+)\] (\d+) bytes$")


@dataclass(frozen=True)
class Record:
    seconds: float
    direction: str  # "<<<" FreeSWITCH wrote, ">>>" the client wrote, "---" a note
    connection: str
    data: bytes


def read_capture(path: Path = CAPTURE) -> list[Record]:
    """The capture's records: ``#### +T DIR [conn] N bytes``, N raw bytes, one ``\\n``."""
    raw = path.read_bytes()
    records: list[Record] = []
    pos = 0
    while pos < len(raw):
        end = raw.index(b"\n", pos)
        line = raw[pos:end]
        pos = end + 1
        match = _RECORD.match(line)
        if not match:
            continue  # "# " comment lines at the top
        seconds, direction, rest = float(match[1]), match[2].decode(), match[3]
        data_match = _DATA.match(rest)
        if direction == "---" or not data_match:
            note = re.search(rb"\[([^\]]+)\]\s*$", rest)
            records.append(Record(seconds, "---", note[1].decode() if note else "", rest))
            continue
        length = int(data_match[2])
        records.append(Record(seconds, direction, data_match[1].decode(), raw[pos : pos + length]))
        pos += length + 1  # the data, then the separator
    return records


def split_messages(stream: bytes) -> list[bytes]:
    """Cut a byte stream into whole ESL messages (header block + Content-Length body)."""
    messages = []
    pos = 0
    while pos < len(stream):
        end = stream.index(b"\n\n", pos)
        headers = stream[pos:end].decode()
        length = 0
        for line in headers.split("\n"):
            name, _, value = line.partition(": ")
            if name == "Content-Length":
                length = int(value)
        messages.append(stream[pos : end + 2 + length])
        pos = end + 2 + length
    return messages


def content_type(message: bytes) -> str:
    for line in message.split(b"\n\n", 1)[0].decode().split("\n"):
        if line.startswith("Content-Type: "):
            return line[len("Content-Type: "):]
    return ""


@dataclass(frozen=True)
class Exchange:
    command: str  # the command line as the client sent it, without the "\n\n"
    reply: bytes  # FreeSWITCH's answer, plus the disconnect-notice when one followed


@dataclass(frozen=True)
class CapturedConnection:
    greeting: bytes
    exchanges: list[Exchange]


@functools.cache
def captured_connections(path: Path = CAPTURE) -> dict[str, CapturedConnection]:
    """Per captured connection: the greeting and each command with its answer. Events
    (text/event-*) are left out; FreeSWITCH answers commands in order."""
    received: dict[str, bytes] = {}
    sent: dict[str, bytes] = {}
    for record in read_capture(path):
        if record.direction == "<<<":
            received[record.connection] = received.get(record.connection, b"") + record.data
        elif record.direction == ">>>":
            sent[record.connection] = sent.get(record.connection, b"") + record.data
    connections = {}
    for name, stream in received.items():
        answers = [m for m in split_messages(stream) if not content_type(m).startswith("text/event-")]
        greeting, answers = answers[0], answers[1:]
        # A disconnect-notice belongs to the answer before it (-ERR invalid, +OK bye).
        merged: list[bytes] = []
        for message in answers:
            if content_type(message) == "text/disconnect-notice" and merged:
                merged[-1] += message
            else:
                merged.append(message)
        commands = [c.split(b"\n", 1)[0].decode() for c in sent.get(name, b"").split(b"\n\n") if c]
        connections[name] = CapturedConnection(
            greeting, [Exchange(c, r) for c, r in zip(commands, merged, strict=True)]
        )
    return connections


def api_response(body: bytes) -> bytes:
    """FreeSWITCH's framing of an api answer (mod_event_socket.c api_exec)."""
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(body) + body


def command_reply(text: str) -> bytes:
    return b"Content-Type: command/reply\nReply-Text: " + text.encode() + b"\n\n"


Headers = list[tuple[str, str]]


def parse_block(block: bytes) -> Headers:
    """Header lines of an event block, values decoded, order (and repeats) kept."""
    out = []
    for line in block.decode().split("\n"):
        if line:
            name, _, value = line.partition(": ")
            out.append((name, unquote(value)))
    return out


def frame_event(headers: Headers, body: bytes = b"") -> bytes:
    """A plain event as mod_event_socket frames it (values switch_url_encode'd; a body is
    announced by an inner Content-Length, as in the captured BACKGROUND_JOB)."""
    lines = "".join(f"{name}: {fs_url_encode(value)}\n" for name, value in headers)
    data = (lines + f"Content-Length: {len(body)}\n\n").encode() + body if body else (lines + "\n").encode()
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(data) + data


@dataclass(frozen=True)
class CapturedEvent:
    headers: Headers
    body: bytes
    framed: bytes  # the exact bytes FreeSWITCH sent

    def get(self, name: str) -> str:
        return next((v for n, v in self.headers if n == name), "")


@functools.cache
def captured_events(path: Path = CAPTURE) -> tuple[CapturedEvent, ...]:
    """Every event of the capture's main session, in order."""
    stream = b"".join(r.data for r in read_capture(path)
                      if r.direction == "<<<" and r.connection == "session")
    out = []
    for message in split_messages(stream):
        if content_type(message) != "text/event-plain":
            continue
        inner = message.partition(b"\n\n")[2]
        block, _, rest = inner.partition(b"\n\n")
        headers = parse_block(block)
        body = b""
        lengths = [int(v) for n, v in headers if n == "Content-Length"]
        if lengths:
            headers = [(n, v) for n, v in headers if n != "Content-Length"]
            body = rest[: lengths[0]]
        out.append(CapturedEvent(headers, body, message))
    return tuple(out)


def event_template(event_name: str, action: str = "") -> Headers:
    for event in captured_events():
        if event.get("Event-Name") == event_name and (not action or event.get("Action") == action):
            return list(event.headers)
    raise LookupError(f"no captured {event_name} {action}")


def rewrite(headers: Headers, values: dict[str, str], *, drop: tuple[str, ...] = ()) -> Headers:
    """The headers with ``values`` replacing every occurrence (new names appended)."""
    out = [(n, values.get(n, v)) for n, v in headers if n not in drop]
    present = {n for n, _ in out}
    out.extend((n, v) for n, v in values.items() if n not in present)
    return out


@dataclass
class Received:
    connection: int
    command: str
    at: float = field(default_factory=time.monotonic)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeMember:
    member_id: int
    uuid: str
    caller_id_name: str = ""
    caller_id_number: str = "0000000000"
    can_hear: bool = True
    can_speak: bool = True
    moderator: bool = False


@dataclass
class FakeConference:
    name: str
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    members: dict[int, FakeMember] = field(default_factory=dict)
    locked: bool = False
    recordings: list[str] = field(default_factory=list)


@dataclass
class FakeRegistration:
    """One row of sofia's ``sip_registrations`` as ``sofia xmlstatus … reg`` shows it."""

    user: str
    host: str
    network_ip: str = "192.0.2.10"
    network_port: int = 5060
    agent: str = "Yealink SIP-T54W 96.86.0.100"
    transport: str = "UDP"
    expires: int = field(default_factory=lambda: int(time.time()) + 3600)
    call_id: str = field(default_factory=lambda: f"{uuidlib.uuid4().hex}@192.0.2.10")
    contact_port: int = 5060


def _amp_encode(value: str) -> str:
    """switch_amp_encode: ``"``, ``'``, ``&``, ``<``, ``>`` as entities."""
    return (value.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&apos;")
            .replace("<", "&lt;").replace(">", "&gt;"))


@functools.cache
def _xmlstatus_template() -> tuple[str, str, str]:
    """(head, one registration, tail) of the captured ``sofia xmlstatus profile internal reg``."""
    text = (REGISTRATIONS_CAPTURE / "xmlstatus-reg.xml").read_text()
    start, end = text.index("    <registration>\n"), text.index("  </registrations>\n")
    first_end = text.index("    </registration>\n", start) + len("    </registration>\n")
    return text[:start], text[start:first_end], text[end:]


def _fill(values: dict[str, str], match: re.Match) -> str:
    return f"<{match[1]}>{values[match[1]]}</{match[1]}>" if match[1] in values else match[0]


def xmlstatus_reg(registrations: list[FakeRegistration], now: float | None = None) -> str:
    """What mod_sofia answers ``sofia xmlstatus profile internal reg`` with for these rows
    (show_reg_callback_xml: ``exp`` in the switch's local time, here UTC)."""
    head, row, tail = _xmlstatus_template()
    now = int(time.time() if now is None else now)
    out = [head]
    for reg in registrations:
        expiry = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(reg.expires))
        values = {
            "call-id": reg.call_id, "user": f"{reg.user}@{reg.host}",
            "contact": _amp_encode(f'"" <sip:{reg.user}@{reg.network_ip}:{reg.contact_port}>'),
            "agent": _amp_encode(reg.agent),
            "status": f"Registered({reg.transport})(unknown) exp({expiry}) expsecs({reg.expires - now})",
            "network-ip": reg.network_ip, "network-port": str(reg.network_port),
            "sip-auth-user": reg.user, "sip-auth-realm": reg.host, "mwi-account": f"{reg.user}@{reg.host}",
        }
        out.append(re.sub(r"<([a-z-]+)>[^<\n]*</\1>", functools.partial(_fill, values), row))
    out.append(tail)
    return "".join(out)


class _Connection:
    def __init__(self, sock: socket.socket, number: int) -> None:
        self.sock = sock
        self.number = number
        self.lock = threading.Lock()
        self.authed = False
        self.events: set[str] = set()

    def wants(self, event_name: str, subclass: str) -> bool:
        if "ALL" in self.events:
            return True
        if event_name == "CUSTOM":
            return "CUSTOM" in self.events and subclass in self.events
        return event_name in self.events

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class FakeFreeswitch:
    """``with FakeFreeswitch() as fs: ... fs.port ...`` listens on 127.0.0.1 (a free port
    unless ``port`` is given). Thread-based; safe to use from several client threads."""

    def __init__(self, password: str = CAPTURED_PASSWORD, port: int = 0, *, start: bool = True) -> None:
        self.password = password
        self.reply_delay = 0.0
        # api command (exact, or its first word) -> seconds to wait before answering.
        self.slow_commands: dict[str, float] = {}
        # Exact api command -> body, or a callable(command) -> body | None. Checked first.
        self.api_replies: dict[str, str] = {}
        self.api_handler: Callable[[str], str | None] | None = None
        self.bgapi_delay = 0.0
        self.hold_jobs = False
        self.originate_result: str | None = None  # e.g. "-ERR NO_ANSWER\n"
        self.conferences: dict[str, FakeConference] = {}
        self.registrations: list[FakeRegistration] = []
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.RLock()
        self._listener: socket.socket | None = None
        self._clients: dict[socket.socket, _Connection] = {}
        self._threads: list[threading.Thread] = []
        self._sequence = 10_000
        # Events an api command causes go out after its answer, as FreeSWITCH's did.
        self._local = threading.local()
        self._member_ids = 0  # mod_conference: one counter for the whole process
        session = captured_connections()["session"]
        wrong = captured_connections()["wrong-password"]
        self._greeting = session.greeting
        self._auth_ok = session.exchanges[0].reply
        self._auth_rejected = wrong.exchanges[0].reply
        self._captured_api = {
            e.command[len("api "):]: e.reply for e in session.exchanges if e.command.startswith("api ")
        }
        self._events_ok = next(e.reply for e in session.exchanges if e.command.startswith("event plain "))
        self._bye = next(e.reply for e in session.exchanges if e.command == "exit")
        self.port = port or _free_port()
        if start:
            self.start()

    # -- control --------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def running(self) -> bool:
        return self._listener is not None

    @property
    def api_commands(self) -> list[str]:
        with self._lock:
            return [r.command[len("api "):] for r in self.received if r.command.startswith("api ")]

    @property
    def subscribed(self) -> int:
        """Open connections that asked for events."""
        with self._lock:
            return sum(1 for c in self._clients.values() if c.authed and c.events)

    def start(self) -> FakeFreeswitch:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address)
        listener.listen(16)
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close the port and every open connection: the node is down."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # Wakes the thread blocked in accept(); close() alone would not, and the port
            # would keep accepting while that thread holds the socket.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.drop_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def drop_connections(self) -> None:
        """Close every open connection without a word (crash, network); keep listening."""
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def __enter__(self) -> FakeFreeswitch:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- events ---------------------------------------------------------------------------

    def _next_sequence(self) -> str:
        with self._lock:
            self._sequence += 1
            return str(self._sequence)

    def emit(self, headers: Headers, body: bytes = b"") -> int:
        """Send an event to every connection subscribed to it; returns how many got it."""
        values = dict(headers)
        headers = rewrite(headers, {"Event-Sequence": self._next_sequence()})
        data = frame_event(headers, body)
        return self._broadcast(data, values.get("Event-Name", ""), values.get("Event-Subclass", ""))

    def send_raw(self, data: bytes) -> int:
        """Bytes as they are, to every connection subscribed to any event."""
        return self._broadcast(data, "ALL", "")

    def _broadcast(self, data: bytes, event_name: str, subclass: str) -> int:
        with self._lock:
            targets = [c for c in self._clients.values()
                       if c.authed and c.events and (event_name == "ALL" or c.wants(event_name, subclass))]
        sent = 0
        for connection in targets:
            try:
                connection.send(data)
                sent += 1
            except OSError:
                pass
        return sent

    def heartbeat(self) -> int:
        """Not captured: HEARTBEAT as switch_core.c sends it every 20 s (the captured
        event's common headers, then Up-Time, Session-Count ...)."""
        common = [(n, v) for n, v in event_template("BACKGROUND_JOB")
                  if not n.startswith(("Job-", "Event-Calling"))]
        headers = rewrite(common, {"Event-Name": "HEARTBEAT", "Event-Info": "System Ready",
                                   "Up-Time": "0 years, 0 days, 0 hours, 1 minute, 0 seconds",
                                   "Session-Count": "0", "Max-Sessions": "1000"})
        return self.emit(headers)

    def _conference_event(self, conference: FakeConference, action: str,
                          member: FakeMember | None = None, **extra: str) -> None:
        """A conference::maintenance event from the captured one with the same Action (or
        the nearest one, for the actions the capture lacks)."""
        base = {"unmute-member": "mute-member", "unlock": "lock", "start-recording": "lock",
                "stop-recording": "lock"}.get(action, action)
        values = {"Conference-Name": conference.name, "Conference-Size": str(len(conference.members)),
                  "Conference-Unique-ID": conference.uuid, "Action": action, **extra}
        if member is not None:
            values.update({
                "Member-ID": str(member.member_id), "Unique-ID": member.uuid,
                "Caller-Unique-ID": member.uuid, "Channel-Call-UUID": member.uuid,
                "Caller-Caller-ID-Name": member.caller_id_name,
                "Caller-Caller-ID-Number": member.caller_id_number,
                "Hear": "true" if member.can_hear else "false",
                "Speak": "true" if member.can_speak else "false",
                "Member-Type": "moderator" if member.moderator else "member",
            })
        headers = rewrite(event_template("CUSTOM", base), values)
        followups = getattr(self._local, "followups", None)
        if followups is None:
            self.emit(headers)
        else:
            followups.append(lambda: self.emit(headers))

    def join(self, name: str, *, uuid: str | None = None, caller_id_name: str = "",
             caller_id_number: str = "0000000000", moderator: bool = False) -> int:
        """A call enters room ``name`` (created on first use). Returns its member id."""
        with self._lock:
            conference = self.conferences.get(name)
            created = conference is None
            if created:
                conference = self.conferences[name] = FakeConference(name)
            self._member_ids += 1
            member = FakeMember(self._member_ids, uuid or str(uuidlib.uuid4()), caller_id_name,
                                caller_id_number, moderator=moderator)
            conference.members[member.member_id] = member
        if created:
            self._conference_event(conference, "conference-create")
        self._conference_event(conference, "add-member", member)
        return member.member_id

    def leave(self, name: str, member_id: int, *, hangup: bool = False) -> None:
        """The member leaves (its call hung up); the room ends with its last member."""
        with self._lock:
            conference = self.conferences[name]
            member = conference.members.pop(member_id)
            empty = not conference.members
            if empty:
                del self.conferences[name]
        self._conference_event(conference, "del-member", member)
        if hangup:
            hangup_event = rewrite(event_template("CHANNEL_HANGUP_COMPLETE"), {
                "Unique-ID": member.uuid, "Caller-Unique-ID": member.uuid, "Channel-Call-UUID": member.uuid})
            followups = getattr(self._local, "followups", None)
            if followups is None:
                self.emit(hangup_event)
            else:
                followups.append(lambda: self.emit(hangup_event))
        if empty:
            self._conference_event(conference, "conference-destroy")

    # -- sofia's registrations -------------------------------------------------------------

    def register(self, user: str, host: str, **fields) -> FakeRegistration:
        """A phone registered as ``user@host`` (fields: FakeRegistration's)."""
        registration = FakeRegistration(user=user, host=host, **fields)
        with self._lock:
            self.registrations.append(registration)
        return registration

    def _flush_inbound_reg(self, argument: str) -> str:
        """sofia_reg_expire_call_id: ``call_id='ARG' or (sip_user='U' and sip_host='H')``
        for ``U@H``, ``or (sip_host='ARG')`` without a user; no argument: every row."""
        with self._lock:
            if not argument:
                self.registrations.clear()
                return "+OK flushing all registrations\n"
            user, at, host = argument.partition("@")
            if not at:
                user, host = "", argument
            host = host or "none"
            self.registrations = [r for r in self.registrations if not (
                r.call_id == argument or (r.host == host and (not user or r.user == user)))]
        return "+OK flushing all registrations matching specified call_id\n"

    # -- protocol -------------------------------------------------------------------------

    def api_body(self, command: str) -> bytes | None:
        """The body FreeSWITCH would answer ``api <command>`` with (None: use the
        captured bytes)."""
        if command in self.api_replies:
            return self.api_replies[command].encode()
        if self.api_handler is not None:
            body = self.api_handler(command)
            if body is not None:
                return body.encode()
        name, _, args = command.partition(" ")
        if name == "conference" and not command.startswith("conference 3000-acme.example.net json_list"):
            return self._conference_api(args).encode()
        if command in self._captured_api:
            return None
        sofia = args.split()
        if name == "sofia" and sofia[:2] == ["xmlstatus", "profile"] and sofia[3:] == ["reg"]:
            if sofia[2] != "internal":
                return (REGISTRATIONS_CAPTURE / "xmlstatus-no-such-profile.txt").read_bytes()
            with self._lock:
                rows = list(self.registrations)
            return xmlstatus_reg(rows).encode()
        if name == "sofia" and sofia[:1] == ["profile"] and sofia[2:3] == ["flush_inbound_reg"]:
            return self._flush_inbound_reg(" ".join(sofia[3:4])).encode()
        if name == "xml_flush_cache":
            # mod_commands: "+OK cleared N entries"; nothing is cacheable here (as captured).
            return b"+OK cleared 0 entries\n"
        if name == "originate":
            if self.originate_result is not None:
                return self.originate_result.encode()
            match = re.search(r"origination_uuid=([^,}]+)", args)
            return f"+OK {match[1] if match else uuidlib.uuid4()}\n".encode()
        return f"-ERR {name} Command not found!\n".encode()  # as captured for nosuchcommand

    def _conference_api(self, args: str) -> str:
        parts = args.split()
        if parts == ["list"]:
            return self._list_all()
        if len(parts) < 2:
            return "-ERR Conference command, not specified.\n"
        name, sub, rest = parts[0], parts[1], parts[2:]
        with self._lock:
            conference = self.conferences.get(name)
        if conference is None:
            return f"-ERR Conference {name} not found\n"  # captured for "nosuch"
        if sub == "list":
            return "".join(self._member_line(m) for m in reversed(conference.members.values()))
        if sub in ("lock", "unlock"):
            conference.locked = sub == "lock"
            self._conference_event(conference, sub)
            return f"+OK {name} {sub}ed\n"  # "locked" captured, "unlocked" by analogy
        if sub == "record" and rest:
            conference.recordings.append(rest[0])
            self._conference_event(conference, "start-recording", Path=rest[0])
            return f"Record file {rest[0]}\n"  # conference_api_sub_record (not captured)
        if sub == "norecord" and rest:
            stopped = [p for p in conference.recordings if rest[0] in ("all", p)]
            conference.recordings = [p for p in conference.recordings if p not in stopped]
            for path in stopped:
                self._conference_event(conference, "stop-recording", Path=path,
                                       **{"Other-Recordings": "false"})
            if not stopped and rest[0] != "all":
                return f"non-existant recording '{rest[0]}'\n"
            return "".join(f"Stopped recording file {p}\n" for p in stopped)
        if sub in ("mute", "unmute", "deaf", "undeaf", "kick", "hup") and rest:
            targets = list(conference.members.values()) if rest[0] == "all" else (
                [conference.members[int(rest[0])]] if rest[0].isdigit() and int(rest[0]) in conference.members
                else [])
            if not targets:
                return f"-ERR Non-Existant ID {rest[0]}\n"  # the reference page's wording
            for member in targets:
                if sub in ("mute", "unmute"):
                    member.can_speak = sub == "unmute"
                    self._conference_event(conference, f"{sub}-member", member)
                elif sub in ("deaf", "undeaf"):
                    member.can_hear = sub == "undeaf"
                    self._conference_event(conference, f"{sub}-member", member)
                else:
                    self._conference_event(conference, f"{sub}-member", member)
                    self.leave(name, member.member_id, hangup=True)
            word = {"kick": "kicked"}.get(sub, sub)
            return f"+OK {word} {targets[0].member_id if rest[0] != 'all' else len(targets)}\n"
        return f"-ERR {sub} not supported by the fake\n"

    @staticmethod
    def _member_line(member: FakeMember) -> str:
        # Captured: "2;loopback/3000-b;<uuid>;;0000000000;hear|speak;0;0;100"
        flags = [f for f, on in (("hear", member.can_hear), ("speak", member.can_speak),
                                 ("moderator", member.moderator)) if on]
        return (f"{member.member_id};loopback/{member.member_id}-b;{member.uuid};{member.caller_id_name};"
                f"{member.caller_id_number};{'|'.join(flags)};0;0;100\n")

    def _list_all(self) -> str:
        """Not captured: conference_api_sub_list without a room (mod_conference)."""
        with self._lock:
            conferences = list(self.conferences.values())
        if not conferences:
            return "+OK No active conferences.\n"
        out = []
        for c in conferences:
            count = len(c.members)
            flags = "locked|running" if c.locked else "running"
            out.append(f"+OK Conference {c.name} ({count} member{'' if count == 1 else 's'} rate: 8000"
                       f"{' locked' if c.locked else ''} flags: {flags})\n")
            out.extend(self._member_line(m) for m in reversed(c.members.values()))
        return "".join(out)

    def handle_command(self, conn: _Connection, command: str, headers: dict[str, str]
                       ) -> tuple[bytes, bool, Callable[[], None] | None]:
        """(bytes to send, close afterwards, what to do once they are sent) for one
        command, as mod_event_socket does."""
        if command.startswith("exit"):
            return self._bye, True, None
        if not conn.authed:
            if command.startswith("auth "):
                if command[len("auth "):] == self.password:
                    conn.authed = True
                    return self._auth_ok, False, None
                return self._auth_rejected, True, None
            return command_reply("-ERR command not found"), False, None
        if command.startswith("api "):
            api = command[len("api "):]
            delay = self.slow_commands.get(api, self.slow_commands.get(api.split(" ")[0], self.reply_delay))
            if delay:
                time.sleep(delay)
            self._local.followups = followups = []
            try:
                body = self.api_body(api)
            finally:
                self._local.followups = None
            answer = self._captured_api[api] if body is None else api_response(body)
            return answer, False, (lambda: [emit() for emit in followups]) if followups else None
        if command.startswith("event plain "):
            with self._lock:
                conn.events.update(command[len("event plain "):].split())
            return self._events_ok, False, None
        if command.startswith("bgapi "):
            return self._bgapi(command[len("bgapi "):], headers.get("Job-UUID") or str(uuidlib.uuid4()))
        return command_reply("-ERR command not found"), False, None

    def _bgapi(self, api: str, job: str) -> tuple[bytes, bool, Callable[[], None] | None]:
        # Captured: Reply-Text "+OK Job-UUID: U" and a Job-UUID header.
        reply = f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n".encode()

        def finish() -> None:
            if self.hold_jobs:
                return
            if self.bgapi_delay:
                time.sleep(self.bgapi_delay)
            body = self.api_body(api)
            if body is None:
                body = split_messages(self._captured_api[api])[0].partition(b"\n\n")[2]
            name, _, arg = api.partition(" ")
            values = {"Job-UUID": job, "Job-Command": name}
            if arg:
                values["Job-Command-Arg"] = arg
            self.emit(rewrite(event_template("BACKGROUND_JOB"), values), body)

        return reply, False, lambda: threading.Thread(target=finish, daemon=True).start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self.connections += 1
                conn = _Connection(client, self.connections)
                self._clients[client] = conn
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: _Connection) -> None:
        client = conn.sock
        buffer = b""
        try:
            conn.send(self._greeting)
            while True:
                while b"\n\n" not in buffer:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                block, buffer = buffer.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                # A command may carry headers and a Content-Length body (sendmsg, sendevent).
                length = int(headers.get("Content-Length", "0") or 0)
                while len(buffer) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                command = lines[0].rstrip("\r")
                with self._lock:
                    self.received.append(Received(conn.number, command, headers=headers))
                answer, close, after = self.handle_command(conn, command, headers)
                conn.send(answer)
                if after is not None:
                    after()
                if close:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._clients.pop(client, None)
            client.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
