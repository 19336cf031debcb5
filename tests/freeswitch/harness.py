"""A real FreeSWITCH for the tests: where the bundle is, a conf dir made from its
``conf/test`` and our ``deploy/freeswitch`` files on ports free for this run, and the
process (start, API commands over the event socket, log, stop).

Nothing here touches Django: ``conftest.py`` puts it together with the Switchboard
servers (``servers.py``) and the SIP helpers (``sip.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from esl.client import ESLError, InboundESL

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "freeswitch"
BUNDLE_ENV = "SWITCHBOARD_FREESWITCH_DIR"
DEFAULT_BUNDLE = REPO.parent / "shared" / "freeswitch"
LOOPBACK = "127.0.0.1"

# How long FreeSWITCH may take to be ready (the bundle's README: 3-8 s) and to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
# RTP ports per run: a few calls at a time need a few dozen.
RTP_PORTS = 200


# The user property under which the first test's report carries the start-up timings.
STARTUP_PROPERTY = "freeswitch_harness_startup"


class HarnessError(RuntimeError):
    """The harness could not build, start or talk to FreeSWITCH (the message says why and
    where its log is)."""


@dataclass(frozen=True)
class Bundle:
    """The relocatable FreeSWITCH + sipp build (``../shared/freeswitch``, its README)."""

    root: Path

    @property
    def freeswitch(self) -> Path:
        return self.root / "bin" / "fs"

    @property
    def sipp(self) -> Path:
        return self.root / "bin" / "sipp.sh"

    @property
    def test_conf(self) -> Path:
        return self.root / "conf" / "test"

    @property
    def scenarios(self) -> Path:
        return self.root / "sipp"

    def missing(self) -> str | None:
        """Why this bundle cannot be used, or None."""
        needed = [self.freeswitch, self.root / "bin" / "freeswitch", self.sipp, self.root / "bin" / "sipp",
                  self.test_conf / "freeswitch.xml", self.scenarios / "uas.xml"]
        absent = [str(path) for path in needed if not path.exists()]
        if absent:
            return f"{absent[0]} is missing"
        not_executable = [str(path) for path in needed[:4] if not os.access(path, os.X_OK)]
        if not_executable:
            return f"not executable: {', '.join(not_executable)}"
        return None


def bundle_dir() -> Path:
    configured = os.environ.get(BUNDLE_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else DEFAULT_BUNDLE


def find_bundle() -> tuple[Bundle | None, str]:
    """(the bundle, "") or (None, a reason fit for a skip message)."""
    where = bundle_dir()
    source = f"${BUNDLE_ENV}" if os.environ.get(BUNDLE_ENV, "").strip() else "the default location"
    bundle = Bundle(where)
    problem = bundle.missing()
    if problem:
        return None, (f"no FreeSWITCH bundle at {where} ({source}; {problem}): the real-FreeSWITCH "
                      f"tests did not run. Set {BUNDLE_ENV} to a copy of shared/freeswitch.")
    return bundle, ""


def report_header() -> str:
    bundle, reason = find_bundle()
    if bundle is None:
        return f"FreeSWITCH: NONE -- {reason}"
    return f"FreeSWITCH: {bundle.root} (the 'freeswitch' tests run against it)"


def terminal_summary(terminalreporter) -> None:
    """Loud when the real-FreeSWITCH tests were skipped for want of the bundle; otherwise
    how long the harness took to start (pytest's terminal summary)."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "no FreeSWITCH bundle" in str(getattr(report, "longrepr", ""))]
    if skipped:
        _, reason = find_bundle()
        terminalreporter.section("FreeSWITCH", sep="!", red=True, bold=True)
        terminalreporter.line(f"{len(skipped)} real-FreeSWITCH test(s) did NOT run: {reason}",
                              red=True, bold=True)
        return
    # A passed setup is filed under "" in the stats: look everywhere.
    for report in (report for reports in terminalreporter.stats.values() for report in reports):
        for name, timings in getattr(report, "user_properties", None) or ():
            if name == STARTUP_PROPERTY:
                parts = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in timings.items())
                terminalreporter.write_line(f"FreeSWITCH harness start-up: {parts}")
                return


# -- ports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    internal_sip: int
    external_sip: int
    event_socket: int
    rtp_start: int
    rtp_end: int


# Listening ports of a run: below FreeSWITCH's default RTP range and the ephemeral range.
LISTEN_PORTS = range(10000, 16000)


def bindable(port: int, kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def free_port(kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM), taken: set[int] | None = None) -> int:
    """A port free on loopback for every socket kind in ``kinds`` (SIP listens on UDP and
    TCP), outside ``taken``, chosen at random below the kernel's ephemeral range
    (32768-60999 here) and FreeSWITCH's default RTP range (16384-32767). A port from the
    ephemeral range can be handed to an outgoing connection while its server is down, so
    a server restarted on it (the second-binding test restarts the first web server)
    found it taken; ``port_lock`` covers two runs on one machine."""
    taken = taken or set()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop)
        if port not in taken and bindable(port, kinds):
            taken.add(port)
            return port
    raise HarnessError(f"could not find a free port on 127.0.0.1 in {LISTEN_PORTS}")


def free_media_ports(taken: set[int] | None = None) -> int:
    """The first of four free UDP ports for sipp's ``-mp``: sipp binds the audio RTP port
    and the video one at ``-mp`` + 2 (RTCP beside each is kept free too). Checking only the
    first port once let a CI run fail on ``Unable to bind video RTP socket ... errno = 98``."""
    taken = taken or set()
    rng = random.Random()
    for _ in range(200):
        start = rng.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop - 4, 2)
        block = range(start, start + 4)
        if not taken.intersection(block) and all(bindable(port, (socket.SOCK_DGRAM,)) for port in block):
            taken.update(block)
            return start
    raise HarnessError(f"could not find four free UDP ports on 127.0.0.1 in {LISTEN_PORTS}")


def free_udp_range(size: int, taken: set[int]) -> tuple[int, int]:
    """An even-aligned block of ``size`` UDP ports, all free now, away from FreeSWITCH's
    default RTP range (16384-32768) that other engineers' instances use."""
    rng = random.Random()
    for _ in range(100):
        start = rng.randrange(33000, 60000 - size, 2)
        block = range(start, start + size)
        if not taken.intersection(block) and all(bindable(port, (socket.SOCK_DGRAM,)) for port in block):
            taken.update(block)
            return start, start + size - 1
    raise HarnessError(f"no free block of {size} UDP ports between 33000 and 60000")


@contextlib.contextmanager
def port_lock():
    """Held from choosing ports until FreeSWITCH has bound them, so two runs on one machine
    (two xdist workers, two engineers) do not pick the same free ports in the same instant."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "switchboard-freeswitch-ports.lock"
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pick_ports(taken: set[int]) -> Ports:
    internal = free_port(taken=taken)
    external = free_port(taken=taken)
    event_socket = free_port((socket.SOCK_STREAM,), taken=taken)
    rtp_start, rtp_end = free_udp_range(RTP_PORTS, taken)
    return Ports(internal, external, event_socket, rtp_start, rtp_end)


# -- the conf dir ------------------------------------------------------------------------


def _edit(path: Path, pattern: str, replacement: str, count: int = 1) -> None:
    """Replace ``pattern`` (a regular expression) in ``path``; fail loudly when the file no
    longer has it (the deploy files or the bundle changed under the harness)."""
    text = path.read_text()
    new, found = re.subn(pattern, replacement, text, count=count)
    if not found:
        raise HarnessError(f"{path}: expected to find {pattern!r} to change it")
    path.write_text(new)


@dataclass(frozen=True)
class NodeSettings:
    """What the harness writes into the conf and gives the Switchboard side."""

    ports: Ports
    xml_curl_url: str
    # The deploy file's second binding: a second web server, started only by the tests
    # that need one (nothing listens there otherwise: FreeSWITCH's lookups that the first
    # answers not-found are refused there at once).
    xml_curl_url_2: str
    xml_curl_credentials: str  # "user:password", FREESWITCH_GATEWAY_CREDENTIALS
    event_socket_password: str
    cdr_url: str


def build_conf(bundle: Bundle, base: Path, node: NodeSettings) -> Path:
    """``conf/test`` changed into a Switchboard node as deploy/freeswitch/README.md says,
    on this run's ports. Returns the conf dir (with log/, db/, run/, tmp/ beside it)."""
    conf = base / "conf"
    shutil.copytree(bundle.test_conf, conf, symlinks=True)
    for folder in ("log", "db", "run", "tmp", "recordings", "storage", "sounds"):
        (base / folder).mkdir(exist_ok=True)
    install_stand_in_prompts(base / "sounds", conf)
    # The phones' and the carriers' profiles replace the vanilla ones.
    for stale in (conf / "sip_profiles").iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for name in ("internal.xml", "external.xml"):
        shutil.copy(DEPLOY / "sip_profiles" / name, conf / "sip_profiles" / name)
    # Static fallbacks: a directory without users, dialplan contexts that reject the call.
    shutil.rmtree(conf / "directory" / "default", ignore_errors=True)
    shutil.copy(DEPLOY / "directory" / "default.xml", conf / "directory" / "default.xml")
    for context in ("default", "public"):
        shutil.rmtree(conf / "dialplan" / context, ignore_errors=True)
        shutil.copy(DEPLOY / "dialplan" / f"{context}.xml", conf / "dialplan" / f"{context}.xml")
    configs = conf / "autoload_configs"
    for name in ("xml_curl.conf.xml", "event_socket.conf.xml", "json_cdr.conf.xml"):
        shutil.copy(DEPLOY / "autoload_configs" / name, configs / name)

    _edit(configs / "xml_curl.conf.xml", r'value="http://SWITCHBOARD_HOST:8000/freeswitch/"',
          f'value="{node.xml_curl_url}"')
    _edit(configs / "xml_curl.conf.xml", r'value="http://SWITCHBOARD_HOST_2:8000/freeswitch/"',
          f'value="{node.xml_curl_url_2}"')
    for _ in range(2):  # one per binding
        _edit(configs / "xml_curl.conf.xml", r'name="gateway-credentials" value="fsxml:CHANGE-ME"',
              f'name="gateway-credentials" value="{node.xml_curl_credentials}"')
    _edit(configs / "event_socket.conf.xml", r'name="listen-port" value="\d+"',
          f'name="listen-port" value="{node.ports.event_socket}"')
    _edit(configs / "event_socket.conf.xml", r'name="password" value="[^"]*"',
          f'name="password" value="{node.event_socket_password}"')
    _edit(configs / "json_cdr.conf.xml", r'name="url" value="[^"]*"', f'name="url" value="{node.cdr_url}"')
    _edit(configs / "json_cdr.conf.xml", r'name="cred" value="[^"]*"',
          f'name="cred" value="{node.xml_curl_credentials}"')
    _edit(conf / "vars.xml", r"internal_sip_port=\d+", f"internal_sip_port={node.ports.internal_sip}")
    _edit(conf / "vars.xml", r"external_sip_port=\d+", f"external_sip_port={node.ports.external_sip}")
    # TLS stays off, but sofia still reserves nothing for these; keep them off the defaults.
    _edit(conf / "vars.xml", r"internal_tls_port=\d+", f"internal_tls_port={node.ports.internal_sip + 1}")
    _edit(conf / "vars.xml", r"external_tls_port=\d+", f"external_tls_port={node.ports.external_sip + 1}")
    _edit(configs / "switch.conf.xml", r'<!-- <param name="rtp-start-port" value="\d+"/> -->',
          f'<param name="rtp-start-port" value="{node.ports.rtp_start}"/>')
    _edit(configs / "switch.conf.xml", r'<!-- <param name="rtp-end-port" value="\d+"/> -->',
          f'<param name="rtp-end-port" value="{node.ports.rtp_end}"/>')
    # MSRP listens on 2855/2856 by default: a second FreeSWITCH on the machine would fail
    # to bind them. Port 0 lets the kernel choose.
    msrp = configs / "msrp.conf.xml"
    if msrp.exists():
        _edit(msrp, r'<!-- <param name="listen-port" value="2855"/> -->',
              '<param name="listen-port" value="0"/>')
        _edit(msrp, r'<!-- <param name="listen-ssl-port" value="2856"/> -->',
              '<param name="listen-ssl-port" value="0"/>')
    return conf


# -- stand-in prompts --------------------------------------------------------------------

# FreeSWITCH's stock sounds are not in the bundle. A missing prompt is not harmless:
# play_and_get_digits whose prompt cannot be opened gives up at once instead of waiting
# for keys, so no menu could be tested. Every stock prompt the code or the phrase macros
# name gets a short silent stand-in.
PROMPT_NAME = re.compile(r"\b([a-z_]+/[A-Za-z0-9_.-]+\.wav)\b")
STAND_IN_SECONDS = 0.3
CODE_FOLDERS = ("callcontrol", "fsconf", "fsnodes", "pbx", "carriers", "tenants")


def stock_prompt_names(conf: Path) -> set[str]:
    names = {f"digits/{digit}.wav" for digit in range(10)}
    sources = [path for folder in CODE_FOLDERS for path in (REPO / folder).rglob("*.py")]
    sources += list((conf / "lang" / "en").rglob("*.xml"))
    for path in sources:
        names.update(PROMPT_NAME.findall(path.read_text(errors="replace")))
    return names


def install_stand_in_prompts(sounds: Path, conf: Path) -> int:
    """Silent 8 kHz WAVs at ``sounds/en/us/callie/<name>`` (vars.xml's sound_prefix)."""
    silence = b"\x00\x00" * int(8000 * STAND_IN_SECONDS)
    names = stock_prompt_names(conf)
    for name in names:
        target = sounds / "en" / "us" / "callie" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(target), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(silence)
    return len(names)


# -- the process -------------------------------------------------------------------------


class FreeSwitch:
    """One FreeSWITCH process on a conf dir made by :func:`build_conf`."""

    def __init__(self, bundle: Bundle, base: Path, node: NodeSettings) -> None:
        self.bundle = bundle
        self.base = base
        self.node = node
        self.ports = node.ports
        self.conf = base / "conf"
        self.log_file = base / "log" / "freeswitch.log"
        self.console_file = base / "log" / "console.out"
        self.process: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self._esl: InboundESL | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> None:
        base = self.base
        started = time.monotonic()
        with open(self.console_file, "wb") as console:
            # -nf: stay in the foreground so this Popen is FreeSWITCH itself; -nc: no console.
            self.process = subprocess.Popen(
                [str(self.bundle.freeswitch), "-nf", "-nc", "-nonat", "-conf", str(self.conf),
                 "-log", str(base / "log"), "-db", str(base / "db"), "-run", str(base / "run"),
                 "-temp", str(base / "tmp"), "-storage", str(base / "storage"),
                 "-recordings", str(base / "recordings"), "-cache", str(base / "tmp"),
                 "-sounds", str(base / "sounds")],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, cwd=base,
                start_new_session=True,
            )
        try:
            self.write_cli_script()
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started

    def write_cli_script(self) -> Path:
        """``<base>/fs_cli``: the bundle's fs_cli on this switch's event socket (its port and
        password are chosen per run), for looking around from a --pdb prompt."""
        script = self.base / "fs_cli"
        script.write_text(f"#!/usr/bin/env bash\nexec {self.bundle.root / 'bin' / 'fs_cli.sh'} -H {LOOPBACK} "
                          f"-P {self.ports.event_socket} -p {self.node.event_socket_password} \"$@\"\n")
        script.chmod(0o755)
        return script

    def _wait_ready(self, deadline: float) -> None:
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"FreeSWITCH exited with {self.process.returncode} while starting\n"
                                   + self.log_tail())
            try:
                if "is ready" not in self.api("status"):
                    last_problem = "status does not say ready"
                elif self.api("global_getvar conf_dir").strip() != str(self.conf):
                    # Another FreeSWITCH answers on "our" event-socket port.
                    raise HarnessError(f"port {self.ports.event_socket} belongs to another FreeSWITCH")
                else:
                    profiles = self.api("sofia status")
                    down = [name for name in ("internal", "external")
                            if not re.search(rf"^\s*{name}\s+profile\s+\S+\s+RUNNING", profiles, re.M)]
                    if not down:
                        return
                    last_problem = f"sofia profile(s) {', '.join(down)} not running:\n{profiles}"
            except ESLError as exc:
                last_problem = str(exc)
                self._drop_esl()
            time.sleep(0.2)
        raise HarnessError(f"FreeSWITCH not ready after the timeout: {last_problem}\n" + self.log_tail())

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """``fsctl shutdown now``, then SIGKILL if it is still there after ``timeout``.
        ("now": a plain ``fsctl shutdown`` unloads every module in turn and took 6 s,
        the same for a switch that served no call; "now" exits in 0.1 s.)"""
        if self.process is None or self.process.poll() is not None:
            self._drop_esl()
            return
        with contextlib.suppress(ESLError, OSError):
            # FreeSWITCH closes the socket without answering.
            self.api("fsctl shutdown now", reply_timeout=2.0)
        self._drop_esl()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- commands ----------------------------------------------------------------------

    def api(self, command: str, *, reply_timeout: float = 10.0) -> str:
        """An ``api`` command over the event socket (one connection, kept)."""
        if self._esl is None:
            esl = InboundESL(LOOPBACK, self.ports.event_socket, self.node.event_socket_password,
                             connect_timeout=2.0, reply_timeout=reply_timeout)
            esl.connect()
            self._esl = esl
        self._esl.reply_timeout = reply_timeout
        try:
            return self._esl.api(command)
        except ESLError:
            self._drop_esl()
            raise

    def _drop_esl(self) -> None:
        if self._esl is not None:
            with contextlib.suppress(Exception):
                self._esl.close()
            self._esl = None

    def registrations(self, profile: str = "internal") -> list[str]:
        """``user@host`` of every registration sofia holds on ``profile``."""
        text = self.api(f"sofia status profile {profile} reg")
        return re.findall(r"^User:\s+(\S+)", text, re.M)

    def flush_registrations(self, profile: str = "internal", timeout: float = 5.0) -> None:
        """Unregister every phone on ``profile`` and wait until sofia lists none (the
        flush goes through sofia's SQL queue: the list empties a moment later)."""
        self.api(f"sofia profile {profile} flush_inbound_reg")
        deadline = time.monotonic() + timeout
        while self.registrations(profile):
            if time.monotonic() > deadline:
                raise HarnessError(f"registrations still listed after flush_inbound_reg: "
                                   f"{self.registrations(profile)}")
            time.sleep(0.05)

    def hangup_all(self) -> None:
        self.api("hupall NORMAL_CLEARING")

    def sessions(self) -> int:
        """How many sessions the switch holds (``status``: the core's own count, kept as
        sessions are created and destroyed; ``show channels`` is a table its SQL thread
        writes a moment later)."""
        match = re.search(r"^(\d+) session\(s\) - peak", self.api("status"), re.M)
        if match is None:
            raise HarnessError("status without a session count")
        return int(match.group(1))

    def wait_no_sessions(self, timeout: float = 15.0) -> None:
        """Wait until every session is gone. A session is counted until it is destroyed,
        after its CS_REPORTING, where mod_json_cdr posts its record (synchronously, with
        its retries; our json_cdr.conf has no queue): once none is left, no record of
        the calls so far is still on its way to the web server."""
        deadline = time.monotonic() + timeout
        while self.sessions():
            if time.monotonic() > deadline:
                raise HarnessError(f"sessions still up after {timeout} s: {self.api('show channels')}")
            time.sleep(0.05)

    # -- log ---------------------------------------------------------------------------

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int, max_bytes: int = 200_000) -> str:
        """The log written since ``offset`` (the end of it when it is long)."""
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(max(offset, self.log_size() - max_bytes))
                return handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return f"(no log at {self.log_file})"

    def log_tail(self, max_bytes: int = 20_000) -> str:
        console = ""
        if self.console_file.exists():
            console = self.console_file.read_bytes()[-4000:].decode("utf-8", "replace")
        return (f"--- {self.log_file} (end) ---\n{self.log_since(0, max_bytes)}\n"
                f"--- {self.console_file} (end) ---\n{console}")
