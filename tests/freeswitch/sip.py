"""SIP phones for the real-FreeSWITCH tests.

* sipp (the bundle's scenarios): :meth:`Sip.register` (digest REGISTER), :meth:`Sip.call`
  (an INVITE answering the 407, optionally sending RFC 2833 DTMF once answered, then BYE),
  and :class:`Phone` (an answering device: a sipp UAS on its own port, registered with
  that port as its contact).
* :func:`raw_register`: a REGISTER built by hand, for what sipp cannot send (a digest
  answered with another realm than the challenge's, as an attacker would).
* :class:`SipRecorder`: a SIP endpoint in Python that records every request it receives
  byte for byte and answers INVITEs with a chosen status (a carrier's gateway, a phone
  whose INVITEs a test inspects).

Every sipp run writes its messages to ``-message_file``; :class:`SippResult` reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.freeswitch.harness import LOOPBACK, Bundle, HarnessError, bindable, free_media_ports, free_port

SCENARIOS = Path(__file__).resolve().parent / "sipp"
SIPP_TIMEOUT = 30.0
# Tries of a sipp run whose ports were taken between the check and its bind.
BIND_ATTEMPTS = 3
ADDRESS_IN_USE = "errno = 98"

_MESSAGE_START = re.compile(
    r"^-{20,} [^\n]*\n(?:UDP|TCP) message (sent|received) [^\n]*\n\n", re.M)


@dataclass(frozen=True)
class SipMessage:
    direction: str  # "sent" or "received" (from the phone's side)
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def status(self) -> int | None:
        match = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(match.group(1)) if match else None

    @property
    def method(self) -> str | None:
        """The request's method, or the CSeq method of a response."""
        if self.status is None:
            return self.first_line.split(" ", 1)[0]
        return self.cseq_method

    @property
    def cseq_method(self) -> str:
        return (self.header("CSeq") or " ").split()[-1]

    @property
    def request_uri(self) -> str | None:
        return None if self.status is not None else self.first_line.split(" ")[1]

    def header(self, name: str) -> str | None:
        values = self.headers(name)
        return values[0] if values else None

    def headers(self, name: str) -> list[str]:
        head = self.text.split("\n\n", 1)[0]
        pattern = re.compile(rf"^{re.escape(name)}\s*:\s*(.*?)\s*$", re.M | re.I)
        return pattern.findall(head)


def parse_messages(text: str) -> list[SipMessage]:
    """The messages of a sipp ``-message_file``."""
    starts = list(_MESSAGE_START.finditer(text))
    messages = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        body = text[match.end():end].replace("\r\n", "\n").strip("\n")
        messages.append(SipMessage(match.group(1), body))
    return messages


@dataclass
class SippResult:
    command: list[str]
    returncode: int
    messages: list[SipMessage]
    output: str

    def responses(self, method: str) -> list[int]:
        """Statuses received for ``method`` requests, in order."""
        return [m.status for m in self.messages
                if m.direction == "received" and m.status is not None and m.cseq_method == method]

    def final_status(self, method: str) -> int | None:
        """The last final (>= 200) answer to ``method``: after a 401/407 challenge, the
        answer to the authenticated request."""
        finals = [status for status in self.responses(method) if status >= 200]
        return finals[-1] if finals else None

    def received(self, method: str) -> list[SipMessage]:
        return [m for m in self.messages if m.direction == "received" and m.status is None
                and m.method == method]

    def describe(self) -> str:
        flow = ", ".join(f"{'>' if m.direction == 'sent' else '<'} {m.first_line}" for m in self.messages)
        return f"sipp exit {self.returncode}: {flow or 'no messages'}"


class Sip:
    """sipp and Python SIP endpoints against one FreeSWITCH (``node.ports``); everything
    started here is stopped by :meth:`close` (the fixture does it after each test)."""

    def __init__(self, bundle: Bundle, internal_port: int, external_port: int, workdir: Path) -> None:
        self.bundle = bundle
        self.internal = (LOOPBACK, internal_port)
        self.external = (LOOPBACK, external_port)
        self.workdir = workdir
        self._runs = itertools.count(1)
        self._closers: list = []
        self.logs: list[Path] = []

    def close(self) -> None:
        while self._closers:
            with contextlib.suppress(Exception):
                self._closers.pop()()

    # -- sipp --------------------------------------------------------------------------

    def sipp_command(self, scenario: Path, *, target: tuple[str, int], keys: dict[str, str], port: int,
                     message_file: Path, auth: tuple[str, str] | None = None, auth_uri: str | None = None,
                     calls: int | None = 1, media_port: int | None = None,
                     extra: list[str] = ()) -> list[str]:
        command = [str(self.bundle.sipp), f"{target[0]}:{target[1]}", "-sf", str(scenario),
                   "-i", LOOPBACK, "-p", str(port), "-nostdin",
                   "-trace_msg", "-message_file", str(message_file),
                   "-mi", LOOPBACK, "-mp", str(media_port or free_media_ports())]
        if calls is not None:
            command += ["-m", str(calls)]
        for key, value in keys.items():
            command += ["-key", key, str(value)]
        if auth is not None:
            command += ["-au", auth[0], "-ap", auth[1]]
            if auth_uri:
                command += ["-auth_uri", auth_uri]
        return [*command, *extra]

    def run_sipp(self, scenario: Path, *, keys: dict[str, str], auth: tuple[str, str] | None = None,
                 auth_uri: str | None = None, target: tuple[str, int] | None = None,
                 timeout: float = SIPP_TIMEOUT, extra: list[str] = ()) -> SippResult:
        """Run one sipp call to completion (or ``timeout``) and read what it exchanged."""
        for _attempt in range(BIND_ATTEMPTS):
            run = next(self._runs)
            message_file = self.workdir / f"sipp-{run}-{scenario.stem}.messages"
            self.logs.append(message_file)
            command = self.sipp_command(scenario, target=target or self.internal, keys=keys,
                                        port=free_port((socket.SOCK_DGRAM,)), message_file=message_file,
                                        auth=auth, auth_uri=auth_uri,
                                        extra=["-timeout", f"{int(timeout)}s", "-timeout_error", *extra])
            try:
                done = subprocess.run(command, cwd=self.workdir, capture_output=True, timeout=timeout + 10)
            except subprocess.TimeoutExpired as exc:
                raise HarnessError(f"sipp did not finish: {' '.join(command)}") from exc
            text = message_file.read_text(errors="replace") if message_file.exists() else ""
            output = (done.stdout + done.stderr).decode(errors="replace")
            result = SippResult(command, done.returncode, parse_messages(text), output)
            # A port checked free can be taken by another worker's process before sipp
            # binds it; sipp then exits before sending anything, so trying again on
            # other ports repeats nothing the switch has seen.
            if not (result.messages == [] and ADDRESS_IN_USE in output):
                return result
        return result

    def register(self, user: str, domain: str, password: str, *, contact_port: int | None = None,
                 expires: int = 300, auth_user: str | None = None) -> SippResult:
        """``sipp/register.xml``: REGISTER ``user@domain``, answer the 401 with
        ``auth_user`` (default ``user``) and ``password``. ``final_status("REGISTER")`` is
        200, 403 or a second 401."""
        return self.run_sipp(
            self.bundle.scenarios / "register.xml",
            keys={"aor_user": user, "aor_domain": domain, "reg_expires": str(expires),
                  "contact_port": str(contact_port or free_port((socket.SOCK_DGRAM,)))},
            auth=(auth_user or user, password), auth_uri=domain,
        )

    def call(self, from_user: str, from_domain: str, password: str, to: str, *, to_domain: str | None = None,
             hold_ms: int = 1000, dtmf: str = "", dtmf_after_ms: int = 500,
             extra_headers: tuple[str, ...] = (), timeout: float = SIPP_TIMEOUT) -> SippResult:
        """Call ``to`` as ``from_user@from_domain`` (answering the 407 with ``password``).
        Once answered it waits ``dtmf_after_ms``, sends ``dtmf`` as RFC 2833 events (if
        any), holds ``hold_ms`` and hangs up; with ``hold_ms=0`` it waits for FreeSWITCH to
        hang up. ``final_status("INVITE")`` is the answer to the authenticated INVITE.
        ``extra_headers`` (``"Name: value"`` lines) go into both INVITEs, as a phone that
        adds its own headers sends them."""
        to_domain = to_domain or from_domain
        keys = {"from_user": from_user, "from_domain": from_domain, "to_domain": to_domain,
                "hold_ms": str(hold_ms)}
        scenario = self._uac_scenario(dtmf, dtmf_after_ms, hold_ms)
        if extra_headers:
            scenario = self._with_headers(scenario, extra_headers)
        # [service], the request-URI user, is sipp's -s.
        return self.run_sipp(scenario, keys=keys, auth=(from_user, password), auth_uri=f"{to}@{to_domain}",
                             timeout=timeout, extra=["-s", to])

    def transferring_call(self, from_user: str, domain: str, password: str, to: str, *, refer_to: str,
                          refer_after_ms: int = 500, timeout: float = SIPP_TIMEOUT) -> SippResult:
        """Call ``to`` as :meth:`call` does, and once answered transfer the called party
        blind to ``refer_to`` with a REFER (``sipp/uac_refer.xml``); the caller's leg
        then ends with FreeSWITCH's BYE."""
        scenario = self._refer_scenario("uac_refer.xml", refer_to, refer_after_ms)
        keys = {"from_user": from_user, "from_domain": domain, "to_domain": domain, "hold_ms": "0"}
        return self.run_sipp(scenario, keys=keys, auth=(from_user, password), auth_uri=f"{to}@{domain}",
                             timeout=timeout, extra=["-s", to])

    def _refer_scenario(self, name: str, refer_to: str, refer_after_ms: int) -> Path:
        if not re.fullmatch(r"[0-9*#+]+", refer_to):
            raise ValueError(f"not a number to transfer to: {refer_to!r}")
        scenario = self.workdir / f"{Path(name).stem}-{next(self._runs)}.xml"
        scenario.write_text((SCENARIOS / name).read_text().replace("@REFER_TO@", refer_to)
                            .replace("@REFER_AFTER_MS@", str(refer_after_ms)))
        return scenario

    def carrier_call(self, did: str, caller: str, *, hold_ms: int = 500, dtmf: str = "",
                     dtmf_after_ms: int = 500, timeout: float = SIPP_TIMEOUT) -> SippResult:
        """An INVITE as a carrier sends it: to the external profile's port (context
        ``public``, no authentication), request user ``did``, from ``caller``; DTMF and
        hold as :meth:`call`."""
        keys = {"from_user": caller, "from_domain": LOOPBACK, "to_domain": LOOPBACK, "hold_ms": str(hold_ms)}
        scenario = self._uac_scenario(dtmf, dtmf_after_ms, hold_ms)
        return self.run_sipp(scenario, keys=keys, target=self.external, timeout=timeout, extra=["-s", did])

    def _uac_scenario(self, dtmf: str, dtmf_after_ms: int, hold_ms: int) -> Path:
        """The bundle's ``uac_call.xml`` without DTMF, else our ``uac_dtmf.xml`` filled in."""
        if not dtmf:
            return self.bundle.scenarios / "uac_call.xml"
        if not re.fullmatch(r"[0-9*#A-D]+", dtmf):
            raise ValueError(f"not DTMF digits: {dtmf!r}")
        template = (SCENARIOS / "uac_dtmf.xml").read_text()
        scenario = self.workdir / f"uac_dtmf-{next(self._runs)}.xml"
        scenario.write_text(template.replace("@DTMF@", dtmf)
                            .replace("@DTMF_AFTER_MS@", str(dtmf_after_ms))
                            .replace("@HOLD_MS@", str(max(hold_ms, 1))))
        return scenario

    def _with_headers(self, scenario: Path, headers: tuple[str, ...]) -> Path:
        """A copy of ``scenario`` whose INVITEs carry ``headers`` after the User-Agent."""
        for header in headers:
            if not re.fullmatch(r"[A-Za-z0-9-]+: [^\r\n\]]+", header):
                raise ValueError(f"not one SIP header line: {header!r}")
        text = scenario.read_text()
        anchor = "User-Agent: sipp-capture/3.6.1\n"
        if text.count(anchor) < 2:
            raise HarnessError(f"{scenario}: expected a User-Agent line in both INVITEs")
        indent = "      "
        added = "".join(f"{indent}{header}\n" for header in headers)
        copy = self.workdir / f"{scenario.stem}-headers-{next(self._runs)}.xml"
        copy.write_text(text.replace(anchor, anchor + added))
        return copy

    def phone(self, user: str, domain: str, password: str, *, register: bool = True,
              expires: int = 300, scenario: Path | None = None) -> Phone:
        """An answering device registered as ``user@domain`` (its contact is its own
        port): takes every call, answers 200 at once, waits for the BYE."""
        phone = Phone(self, user, domain, password, scenario=scenario)
        phone.start()
        self._closers.append(phone.stop)
        if register:
            result = phone.register(expires=expires)
            if result.final_status("REGISTER") != 200:
                raise HarnessError(f"{user}@{domain} could not register: {result.describe()}")
        return phone

    def transferring_phone(self, user: str, domain: str, password: str, *, refer_to: str,
                           refer_after_ms: int = 500) -> Phone:
        """A registered phone that answers, then after ``refer_after_ms`` transfers the
        call blind to ``refer_to`` (a number in its own domain) with a REFER
        (``sipp/uas_refer.xml``), and takes FreeSWITCH's NOTIFYs and BYE."""
        scenario = self._refer_scenario("uas_refer.xml", refer_to, refer_after_ms)
        return self.phone(user, domain, password, scenario=scenario)

    # -- Python endpoints --------------------------------------------------------------

    def recorder(self, *, answer: int = 486) -> SipRecorder:
        """A SIP endpoint on a free port that records what it receives (see the class)."""
        recorder = SipRecorder(answer=answer)
        recorder.start()
        self._closers.append(recorder.stop)
        return recorder

    def raw_register(self, **kwargs) -> RawRegisterResult:
        return raw_register(self.internal, **kwargs)


class Phone:
    """A sipp UAS (``sipp/uas.xml``) on its own port, registered with that port as its
    contact. ``invites()`` are the INVITEs it received so far."""

    def __init__(self, sip: Sip, user: str, domain: str, password: str, *,
                 scenario: Path | None = None) -> None:
        self.sip = sip
        self.scenario = scenario or sip.bundle.scenarios / "uas.xml"
        self.user = user
        self.domain = domain
        self.password = password
        self.port = free_port((socket.SOCK_DGRAM,))
        self.message_file = sip.workdir / f"phone-{user}@{domain}-{self.port}.messages"
        sip.logs.append(self.message_file)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        for _attempt in range(BIND_ATTEMPTS):
            if self._start_once():
                return
            # sipp exited at once: a port checked free was taken before it bound it.
            self.port = free_port((socket.SOCK_DGRAM,))
            self.message_file = self.sip.workdir / f"phone-{self.user}@{self.domain}-{self.port}.messages"
            self.sip.logs.append(self.message_file)
        raise HarnessError(f"the sipp phone {self.user}@{self.domain} did not start")

    def _start_once(self) -> bool:
        media_port = free_media_ports()
        command = self.sip.sipp_command(self.scenario, target=self.sip.internal,
                                        keys={}, port=self.port, message_file=self.message_file, calls=None,
                                        media_port=media_port)
        self.process = subprocess.Popen(command, cwd=self.sip.workdir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        # Listening once sipp holds its SIP port and the audio and video RTP ports it binds
        # at start (-mp and -mp + 2; seen with ss). It writes its message file before
        # binding, and exits 254 when a bind fails.
        ports = [self.port, media_port, media_port + 2]
        deadline = time.monotonic() + 5
        while any(bindable(port, (socket.SOCK_DGRAM,)) for port in ports):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def register(self, *, expires: int = 300, password: str | None = None) -> SippResult:
        return self.sip.register(self.user, self.domain, password or self.password, contact_port=self.port,
                                 expires=expires)

    def messages(self) -> list[SipMessage]:
        if not self.message_file.exists():
            return []
        return parse_messages(self.message_file.read_text(errors="replace"))

    def invites(self) -> list[SipMessage]:
        return [m for m in self.messages() if m.direction == "received" and m.method == "INVITE"
                and m.status is None]

    def answered(self) -> int:
        """How many INVITEs it answered with 200."""
        return sum(1 for m in self.messages() if m.direction == "sent" and m.status == 200
                   and m.cseq_method == "INVITE")

    def wait_for_invites(self, count: int = 1, timeout: float = 5.0) -> list[SipMessage]:
        """The INVITEs received once there are ``count`` (or what came within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.invites()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.invites()

    def wait_answered(self, count: int = 1, timeout: float = 5.0) -> int:
        """How many INVITEs it answered once there are ``count`` (or within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.answered() < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.answered()


# -- hand-built REGISTER ---------------------------------------------------------------


@dataclass
class RawRegisterResult:
    statuses: list[int]
    sent: list[bytes]
    received: list[bytes]

    @property
    def final_status(self) -> int | None:
        finals = [status for status in self.statuses if status >= 200]
        return finals[-1] if finals else None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def raw_register(target: tuple[str, int], *, aor_user: str, aor_domain: str, auth_user: str,
                 auth_realm: str | None, password: str, from_domain: str | None = None,
                 contact_port: int | None = None, expires: int = 300,
                 timeout: float = 5.0) -> RawRegisterResult:
    """REGISTER ``aor_user@aor_domain`` (To; From is ``aor_user@from_domain``, the same by
    default) and answer the 401 with a digest over ``auth_realm`` -- which may differ from
    the challenge's realm (``None``: the challenge's)."""
    from_domain = from_domain or aor_domain
    call_id = secrets.token_hex(8)
    from_tag = secrets.token_hex(4)
    result = RawRegisterResult([], [], [])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(timeout)
        port = sock.getsockname()[1]
        contact = f"<sip:{aor_user}@{LOOPBACK}:{contact_port or port}>"

        def send(cseq: int, authorization: str = "") -> None:
            lines = [
                f"REGISTER sip:{aor_domain} SIP/2.0",
                f"Via: SIP/2.0/UDP {LOOPBACK}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport",
                f"From: <sip:{aor_user}@{from_domain}>;tag={from_tag}",
                f"To: <sip:{aor_user}@{aor_domain}>",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq} REGISTER",
                f"Contact: {contact}",
                "Max-Forwards: 70",
                f"Expires: {expires}",
                "User-Agent: switchboard-tests-raw",
            ]
            if authorization:
                lines.append(f"Authorization: {authorization}")
            data = ("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode()
            result.sent.append(data)
            sock.sendto(data, target)

        def final_or_challenge() -> bytes:
            while True:
                data, _ = sock.recvfrom(65535)
                result.received.append(data)
                status = int(data.split(b" ", 2)[1])
                result.statuses.append(status)
                if status >= 200:
                    return data

        send(1)
        answer = final_or_challenge()
        if not answer.startswith(b"SIP/2.0 401"):
            return result
        challenge = re.search(rb"WWW-Authenticate:\s*Digest (.*)", answer, re.I).group(1).decode()
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
        realm = auth_realm or params["realm"]
        uri = f"sip:{aor_domain}"
        cnonce, nc = secrets.token_hex(4), "00000001"
        ha1 = _md5(f"{auth_user}:{realm}:{password}")
        ha2 = _md5(f"REGISTER:{uri}")
        response = _md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        send(2, f'Digest username="{auth_user}", realm="{realm}", nonce="{params["nonce"]}", uri="{uri}", '
                f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={nc}')
        final_or_challenge()
    return result


# -- a recording SIP endpoint ----------------------------------------------------------


@dataclass
class SipRecorder:
    """A UDP SIP endpoint on 127.0.0.1 that keeps every request it receives (``requests``,
    raw bytes) and answers: INVITE with 100 then ``answer`` (486 Busy Here by default; 200
    with an SDP answer to take the call), BYE/CANCEL/OPTIONS/REGISTER/NOTIFY with 200, ACK
    with nothing. Use it as a carrier's gateway (``server=127.0.0.1:<port>``)."""

    answer: int = 486
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None
    _running: bool = False

    def start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, self.port))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._running = True
        self._thread = threading.Thread(target=self._serve, name=f"sip-recorder-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(2)
        if self._sock is not None:
            self._sock.close()

    def invites(self) -> list[SipMessage]:
        return [message for message in self.messages() if message.method == "INVITE"]

    def messages(self) -> list[SipMessage]:
        return [SipMessage("received", data.decode(errors="replace").replace("\r\n", "\n"))
                for data in list(self.requests)]

    def wait_for_invites(self, count: int = 1, timeout: float = 5.0) -> list[SipMessage]:
        deadline = time.monotonic() + timeout
        while len(self.invites()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.invites()

    def _serve(self) -> None:
        while self._running:
            try:
                data, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if data.startswith(b"SIP/2.0") or not data.strip():
                continue  # a response (to nothing we sent) or a keep-alive
            self.requests.append(data)
            method = data.split(b" ", 1)[0].decode(errors="replace")
            if method == "ACK":
                continue
            if method == "INVITE":
                self._sock.sendto(self._response(data, 100, "Trying"), peer)
                if self.answer == 200:
                    self._sock.sendto(self._response(data, 200, "OK", sdp=True), peer)
                else:
                    self._sock.sendto(self._response(data, self.answer, "Recorded"), peer)
            else:
                self._sock.sendto(self._response(data, 200, "OK"), peer)

    def _response(self, request: bytes, status: int, reason: str, *, sdp: bool = False) -> bytes:
        text = request.decode(errors="replace")
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        copied = [line for line in head[1:]
                  if line.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
        call_id = next((line.split(":", 1)[1].strip() for line in copied
                        if line.split(":", 1)[0].strip().lower() == "call-id"), "")
        # The same To tag for every answer in one dialog (retransmissions, the 200 to BYE).
        tag = ";tag=rec" + hashlib.md5(call_id.encode()).hexdigest()[:8]
        lines = [f"SIP/2.0 {status} {reason}"]
        for line in copied:
            is_to = line.split(":", 1)[0].strip().lower() == "to"
            lines.append(line + tag if is_to and status > 100 and ";tag=" not in line else line)
        body = ""
        if sdp:
            body = (f"v=0\r\no=recorder 1 1 IN IP4 {LOOPBACK}\r\ns=-\r\nc=IN IP4 {LOOPBACK}\r\nt=0 0\r\n"
                    f"m=audio {self.port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
            lines += [f"Contact: <sip:recorder@{LOOPBACK}:{self.port}>", "Content-Type: application/sdp"]
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()
