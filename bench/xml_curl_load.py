"""Request bodies and load clients for the xml_curl benchmark (no Django here).

Bodies are the captured mod_xml_curl fixtures rewritten per tenant and re-encoded the way
FreeSWITCH encodes them (first five fields raw, the rest with switch_url_encode's unsafe
set), checked byte for byte against the captures. Every request goes on a new TCP
connection with ``Connection: close``, as mod_xml_curl sends it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from bench.xml_curl_data import FIRST_EXTENSION, did, tenant_domain

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "freeswitch" / "xml_curl"
RAW_FIELDS = ("hostname", "section", "tag_name", "key_name", "key_value")
# switch_url_encode (FreeSWITCH src/switch_utils.c): these, controls and non-ASCII bytes.
URL_UNSAFE = set(b'\r\n "#%&+:;<=>?@[\\]^`{|}')
CAPTURE_DOMAIN = "acme.example.net"
CAPTURE_DID = "14165550100"
OUTBOUND_NUMBER = 12125550100  # + slot: an external (NANP) number, never a platform DID
# One shape = (fixture, what the endpoint's answer must contain to count as resolved).
SHAPES: dict[str, tuple[str, bytes]] = {
    "sip_auth REGISTER": ("directory-sip_auth-register-acme-1001-a1hash-ok", b'name="a1-hash"'),
    "user_call": ("directory-user_call-acme-1002", b"sofia_contact"),
    "dialplan local": ("dialplan-acme-1001-to-1002", b'application="bridge"'),
    "dialplan outbound": ("dialplan-acme-1001-to-1002", b"<document"),
    "inbound DID": ("dialplan-public-did-14165550100-external-profile", b'application="transfer"'),
}
# The other directory lookups of a registration storm (bench.xml_curl --cold-compare):
# each asks for one user, which the rewrite makes a fresh one per slot.
DIRECTORY_SHAPES: dict[str, tuple[str, bytes]] = {
    "sip_auth REGISTER": SHAPES["sip_auth REGISTER"],
    "sip_auth INVITE": ("directory-sip_auth-invite-acme-1001", b'name="a1-hash"'),
    "user_call": SHAPES["user_call"],
    "message-count": ("directory-message-count-after-register-acme-1001", b'name="vm-password"'),
    "voicemail-lookup": ("directory-voicemail-lookup-acme-1001", b'name="vm-password"'),
    "reverse-auth-lookup": ("directory-reverse-auth-lookup-acme-1002", b'name="a1-hash"'),
    "group pointer": ("directory-group_call-2-pointer-1001", b"sofia_contact"),
}
ALL_SHAPES = {**SHAPES, **DIRECTORY_SHAPES}
NUMBER = re.compile(r"(?<!\d)(1001|1002)(?!\d)")


def capture(name: str) -> tuple[dict[str, str], bytes]:
    head, _, body = (FIXTURES / f"{name}.http").read_bytes().partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers, body


def decode(body: bytes) -> list[tuple[str, str]]:
    pairs = []
    for pair in body.decode().split("&"):
        name, _, value = pair.partition("=")
        pairs.append((name, value) if name in RAW_FIELDS else (unquote(name), unquote(value)))
    return pairs


def _encode(text: str) -> str:
    return "".join(
        f"%{byte:02X}" if byte in URL_UNSAFE or byte < 0x20 or byte > 0x7E else chr(byte)
        for byte in text.encode()
    )


def encode(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(
        f"{name}={value}" if name in RAW_FIELDS else f"{_encode(name)}={_encode(value)}"
        for name, value in pairs
    ).encode()


@dataclass(frozen=True)
class Fetch:
    shape: str
    section: str
    body: bytes

    def request(self, host: str, authorization: str) -> bytes:
        head = (f"POST /freeswitch/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n"
                "User-Agent: freeswitch-xml/1.0\r\nAccept: */*\r\n"
                f"Content-Length: {len(self.body)}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n")
        return head.encode() + self.body


class Bodies:
    """Per-tenant rewrites of the captures. ``slot`` picks distinct users, destinations
    and DIDs, so fetches of different slots never share a document (cold = fresh slot)."""

    def __init__(self, extensions: int, dids: int) -> None:
        self.lane = extensions // 5  # five lanes of extensions: one per role below
        self.dids = dids
        self.templates = {}
        for shape, (name, _) in ALL_SHAPES.items():
            headers, body = capture(name)
            pairs = decode(body)
            assert encode(pairs) == body, f"re-encoding {name} does not give the captured bytes"
            self.templates[shape] = pairs
        self.authorization = headers["authorization"]

    def ext(self, lane: int, slot: int) -> str:
        assert slot < self.lane, "slot beyond the extensions of a lane"
        return str(FIRST_EXTENSION + lane * self.lane + slot)

    def fetch(self, shape: str, tenant: int, slot: int) -> Fetch:
        directory = {"1001": self.ext(0, slot), "1002": self.ext(0, slot)}
        numbers = {
            **{name: directory for name in DIRECTORY_SHAPES},
            "sip_auth REGISTER": {"1001": self.ext(0, slot)},
            "user_call": {"1002": self.ext(1, slot)},
            "dialplan local": {"1001": self.ext(2, slot), "1002": self.ext(3, slot)},
            "dialplan outbound": {"1001": self.ext(4, slot), "1002": str(OUTBOUND_NUMBER + slot)},
            "inbound DID": {},
        }[shape]
        domain = tenant_domain(tenant)
        number = did(tenant, min(slot, self.dids - 1))

        def rewrite(value: str) -> str:
            value = value.replace(CAPTURE_DOMAIN, domain).replace(CAPTURE_DID, number)
            return NUMBER.sub(lambda m: numbers.get(m.group(), m.group()), value)

        pairs = [(name, rewrite(value)) for name, value in self.templates[shape]]
        return Fetch(shape, dict(pairs)["section"], encode(pairs))

    def key_set(self, tenants: range, slot: int, every_shape: bool = True,
                shapes: list[str] | None = None) -> list[Fetch]:
        """One fetch per shape (``shapes``, default the mix of SHAPES) per tenant, or
        (``every_shape=False``) one per tenant with the shapes in turn."""
        shapes = shapes or list(SHAPES)
        if every_shape:
            return [self.fetch(shape, tenant, slot) for tenant in tenants for shape in shapes]
        return [self.fetch(shapes[tenant % len(shapes)], tenant, slot) for tenant in tenants]


# --- the constant-rate and closed-loop clients ----------------------------------------------

@dataclass
class Result:
    latencies_ms: list[float]
    errors: int
    elapsed_s: float
    statuses: dict[int, int]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


async def _exchange(host: str, port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        body = await (reader.readexactly(int(length.group(1))) if length else reader.read())
        return int(head[9:12]), body
    finally:
        writer.close()


async def _run(host: str, port: int, requests: list[bytes], rate: float | None,
               concurrency: int) -> Result:
    """``rate``: open loop, request i is due at start + i/rate and its latency counts from
    then (no coordinated omission). ``rate=None``: closed loop with ``concurrency``."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0

    async def one(request: bytes, due: float) -> None:
        nonlocal errors
        try:
            status, _ = await asyncio.wait_for(_exchange(host, port, request), 60)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            errors += 1
            return
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append((loop.time() - due) * 1000)

    start = loop.time()
    if rate is None:
        queue = list(reversed(requests))

        async def worker() -> None:
            while queue:
                request = queue.pop()
                await one(request, loop.time())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    else:
        start += 0.05
        tasks = []
        for i, request in enumerate(requests):
            due = start + i / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            tasks.append(asyncio.create_task(one(request, due)))
        await asyncio.gather(*tasks)
    return Result(latencies, errors, loop.time() - start, statuses)


def run(port: int, requests: list[bytes], rate: float | None = None, concurrency: int = 16) -> Result:
    return asyncio.run(_run("127.0.0.1", port, requests, rate, concurrency))


def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    return asyncio.run(_exchange("127.0.0.1", port, request))


# --- wrk, for closed-loop throughput ---------------------------------------------------------

def wrk_script(path: Path, fetches: list[Fetch], authorization: str) -> Path:
    """A wrk Lua script cycling through the bodies (each thread from its own offset)."""
    lines = ['wrk.method = "POST"',
             f'wrk.headers["Authorization"] = "{authorization}"',
             'wrk.headers["User-Agent"] = "freeswitch-xml/1.0"',
             'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
             'wrk.headers["Connection"] = "close"',
             "local bodies = {"]
    lines += [f"[==[{fetch.body.decode()}]==]," for fetch in fetches]
    lines += ["}", "local counter = 1",
              "local i = 0",
              "function setup(thread) thread:set('offset', counter * 7919); counter = counter + 1 end",
              "function init(args) i = offset or 0 end",
              "function request()",
              "  i = i % #bodies + 1",
              '  return wrk.format(nil, "/freeswitch/", nil, bodies[i])',
              "end"]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class WrkResult:
    throughput: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx responses and socket errors


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, script: Path, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/freeswitch/"],
        capture_output=True, text=True, check=True,
    ).stdout
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return WrkResult(
        throughput=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        p99_ms=_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        bad=bad,
    )


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
