"""A fake FreeSWITCH inbound event socket (mod_event_socket on :8021) for tests.

Built from the capture ``tests/fixtures/freeswitch/esl/inbound/session.log`` (a copy of the
shared capture of FreeSWITCH 1.11.3-dev): the greeting, the auth answers (``+OK accepted``;
``-ERR invalid`` followed by the disconnect-notice and a close), the ``exit`` answer and the
answer of every ``api`` command in the capture are sent as the exact bytes FreeSWITCH sent.
Other ``api`` commands get an ``api/response`` framed as FreeSWITCH frames it
(``Content-Type: api/response\\nContent-Length: N\\n\\n`` + body, mod_event_socket.c);
``tests/fsnodes/test_fake_esl.py`` checks that framing against every api/response of the
capture. Commands other than auth/api/exit answer ``-ERR command not found`` (extend
``handle_command`` for events, bgapi, ... when the event-socket work needs them).

Failure modes: ``stop()`` closes the port (node down; ``start()`` again reopens the same
port), a ``password`` different from the client's (wrong password), ``reply_delay`` (slow
answers, for timeouts), ``api_replies`` (any body for a command, e.g. ``-ERR ...``).
Everything received is recorded in ``received`` (``api_commands`` for just the api ones).
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CAPTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "freeswitch" / "esl" / "inbound" / "session.log"
)
CAPTURED_PASSWORD = "ClueCon"

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


@dataclass
class Received:
    connection: int
    command: str
    at: float = field(default_factory=time.monotonic)


class FakeFreeswitch:
    """``with FakeFreeswitch() as fs: ... fs.port ...`` listens on 127.0.0.1 (a free port
    unless ``port`` is given). Thread-based; safe to use from several client threads."""

    def __init__(self, password: str = CAPTURED_PASSWORD, port: int = 0, *, start: bool = True) -> None:
        self.password = password
        self.reply_delay = 0.0
        # Exact api command -> body, or a callable(command) -> body | None. Checked first.
        self.api_replies: dict[str, str] = {}
        self.api_handler: Callable[[str], str | None] | None = None
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        session = captured_connections()["session"]
        wrong = captured_connections()["wrong-password"]
        self._greeting = session.greeting
        self._auth_ok = session.exchanges[0].reply
        self._auth_rejected = wrong.exchanges[0].reply
        self._captured_api = {
            e.command[len("api "):]: e.reply for e in session.exchanges if e.command.startswith("api ")
        }
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
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> FakeFreeswitch:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

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
        if command in self._captured_api:
            return None
        name, _, _ = command.partition(" ")
        if name == "xml_flush_cache":
            # mod_commands: "+OK cleared N entries"; nothing is cacheable here (as captured).
            return b"+OK cleared 0 entries\n"
        return f"-ERR {name} Command not found!\n".encode()  # as captured for nosuchcommand

    def handle_command(self, state: dict, command: str) -> tuple[bytes, bool]:
        """(bytes to send, close afterwards) for one command, as mod_event_socket does."""
        if command.startswith("exit"):
            return self._bye, True
        if not state["authed"]:
            if command.startswith("auth "):
                if command[len("auth "):] == self.password:
                    state["authed"] = True
                    return self._auth_ok, False
                return self._auth_rejected, True
            return command_reply("-ERR command not found"), False
        if command.startswith("api "):
            api = command[len("api "):]
            if self.reply_delay:
                time.sleep(self.reply_delay)
            body = self.api_body(api)
            return (self._captured_api[api] if body is None else api_response(body)), False
        return command_reply("-ERR command not found"), False

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self.connections += 1
                number = self.connections
                self._clients.add(client)
            thread = threading.Thread(target=self._serve, args=(client, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket, number: int) -> None:
        state = {"authed": False}
        buffer = b""
        try:
            client.sendall(self._greeting)
            while True:
                while b"\n\n" not in buffer:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                block, buffer = buffer.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                # A command may carry headers and a Content-Length body (sendmsg, sendevent).
                lengths = [int(line[16:]) for line in lines[1:] if line.startswith("Content-Length: ")]
                length = lengths[0] if lengths else 0
                while len(buffer) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                command = lines[0].rstrip("\r")
                with self._lock:
                    self.received.append(Received(number, command))
                answer, close = self.handle_command(state, command)
                client.sendall(answer)
                if close:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._clients.discard(client)
            client.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
