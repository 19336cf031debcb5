"""Call-record ingest (/freeswitch/cdr/*) under sustained load, with replays mixed in,
beside a bare endpoint that only reads the body.

Usage: .venv/bin/python -m bench.cdr_ingest [--seconds 20] [--connections 16]
                                             [--replay 0.2] [--write]

A fresh database (``switchboard_bench_cdr`` on the configured server) is migrated and
given the capture's tenant (acme.example.net, a customer under a reseller) and the
month of the captured calls as a partition. Posts are the five captured bodies
(mod_json_cdr with encoded and plain values, both legs; mod_xml_cdr URL-encoded and
plain) with every uuid in them replaced per post, so each new post is a new leg; a
share ``--replay`` of the posts resend, byte for byte, one already sent (FreeSWITCH's
retry after a lost answer, or an err-log-dir replay).

Both servers are granian, as bin/run starts it (2 workers x 4 threads, the production
WSGI entry point with its fast paths; DEBUG off). The bare server is the same granian
running a WSGI callable that reads the body and answers 200. The load generator is one
Python process on the same 2 cores (closed loop, ``--connections`` keep-alive
connections), so both figures are what is left beside it.

Checked after each run of the real endpoint: every answer was 200; the table holds
exactly one row per distinct leg sent and none for any other; the replays were answered
"already stored". A full run appends its table to docs/benchmarks.md ("Call-record
ingest") with ``--write``; otherwise it is only printed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import selectors
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine, use_bench_database

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "tests" / "fixtures" / "freeswitch" / "cdr"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATABASE = "switchboard_bench_cdr"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "switchboard.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-5c1f0e7a9b2d4c6e8f0a1b3c5d7e9f1a",
    "SWITCHBOARD_SIP_SECRET_KEY": "bench-only-sip-key",
    "FREESWITCH_ALLOWED_NETWORKS": "127.0.0.0/8",
    "FREESWITCH_GATEWAY_CREDENTIALS": "cdr:s3cret-cdr",
    "SWITCHBOARD_SPARE_SCHEMAS": "0",
    "LOG_LEVEL": "WARNING",
    "DATABASE_POOL_SIZE": "4",  # as bin/run: one connection per thread, lent per request
}
AUTHORIZATION = "Basic Y2RyOnMzY3JldC1jZHI="  # cdr:s3cret-cdr, the captures' header
WORKERS, THREADS = 2, 4


@dataclass
class Template:
    """A captured post split at its uuids, so a new post is a join."""
    path: str
    content_type: str
    parts: list[bytes]
    uuids: list[bytes]  # the uuid between parts[i] and parts[i+1]
    leg_uuid: bytes


def templates() -> list[Template]:
    found = []
    for capture in sorted(CAPTURES.glob("*.attempt1.http")):
        head, _, body = capture.read_bytes().partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        leg = re.search(r"uuid=(?:a_)?([0-9a-f-]{36})", lines[0]).group(1).encode()
        path = "/freeswitch/cdr/xml" if "xml_cdr" in capture.name else "/freeswitch/cdr/json"
        parts, uuids, last = [], [], 0
        for match in UUID.finditer(body):
            parts.append(body[last:match.start()])
            uuids.append(match.group(0))
            last = match.end()
        parts.append(body[last:])
        found.append(Template(path, headers.get("content-type", ""), parts, uuids, leg))
    return found


def build_request(template: Template, number: int) -> tuple[bytes, str]:
    """Post ``number`` of ``template``: every uuid replaced by one unique to this post
    (the same old uuid always maps to the same new one inside it)."""
    mapping: dict[bytes, bytes] = {}
    out = [template.parts[0]]
    for old, part in zip(template.uuids, template.parts[1:], strict=True):
        fresh = uuid.uuid5(uuid.NAMESPACE_URL, f"{number}:{old.decode()}")
        new = mapping.setdefault(old, str(fresh).encode())
        out += [new, part]
    body = b"".join(out)
    leg = mapping.get(template.leg_uuid, template.leg_uuid).decode()
    head = (f"POST {template.path}?uuid={leg} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"User-Agent: freeswitch-json/1.0\r\nAuthorization: {AUTHORIZATION}\r\n"
            f"Content-Type: {template.content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body, leg


@dataclass
class Result:
    seconds: float
    sent: int = 0
    replays: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: dict[bytes, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    legs: set[str] = field(default_factory=set)
    # CPU seconds (server processes, PostgreSQL backends) over the measured window, and
    # the posts answered in it: from 1 s after the start (connections open) to the end.
    cpu: dict[str, float] = field(default_factory=dict)
    window_posts: int = 0

    def cpu_ms_per_post(self, name: str) -> float:
        return 1000 * self.cpu.get(name, 0.0) / max(self.window_posts, 1)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds


def run_load(port: int, seconds: float, connections: int, replay_share: float, seed: int = 1,
             cpu_sampler=None) -> Result:
    """Closed loop: each connection sends its next post as soon as the last is answered.
    ``cpu_sampler()`` returns {name: CPU seconds so far}; sampled 1 s in and at the end."""
    rng = random.Random(seed)
    shapes = templates()
    recent: list[tuple[bytes, str]] = []
    counter = 0
    result = Result(seconds)

    def next_request() -> tuple[bytes, str, bool]:
        nonlocal counter
        if recent and rng.random() < replay_share:
            data, leg = rng.choice(recent)
            return data, leg, True
        counter += 1
        data, leg = build_request(shapes[counter % len(shapes)], counter)
        recent.append((data, leg))
        if len(recent) > 2000:
            recent.pop(0)
        return data, leg, False

    selector = selectors.DefaultSelector()
    states = {}
    deadline = time.perf_counter() + seconds

    def send(sock: socket.socket) -> None:
        data, leg, replay = next_request()
        states[sock] = {"buffer": b"", "started": time.perf_counter(), "leg": leg, "replay": replay}
        sock.sendall(data)

    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        selector.register(sock, selectors.EVENT_READ)
        send(sock)
    started = time.perf_counter()
    open_connections = connections
    first_sample: tuple[int, dict[str, float]] | None = None
    while open_connections:
        for key, _ in selector.select(timeout=5):
            sock = key.fileobj
            state = states[sock]
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("server closed a connection")
            state["buffer"] += chunk
            head, sep, rest = state["buffer"].partition(b"\r\n\r\n")
            if not sep:
                continue
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            if len(rest) < length:
                continue
            status = int(head.split(b" ", 2)[1])
            now = time.perf_counter()
            result.sent += 1
            result.replays += state["replay"]
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.bodies[rest[:length]] = result.bodies.get(rest[:length], 0) + 1
            result.latencies_ms.append((now - state["started"]) * 1000)
            if status == 200:
                result.legs.add(state["leg"])
            if first_sample is None and cpu_sampler and now > started + 1:
                first_sample = (result.sent, cpu_sampler())
            if now < deadline:
                send(sock)
            else:
                selector.unregister(sock)
                sock.close()
                open_connections -= 1
    result.seconds = time.perf_counter() - started
    if first_sample is not None:
        last = cpu_sampler()
        result.window_posts = result.sent - first_sample[0]
        result.cpu = {name: last[name] - first_sample[1].get(name, 0.0) for name in last}
    return result


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _session_pids(session: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[3]) == session:  # the session id: granian and its workers
                pids.append(int(entry))
    return pids


def cpu_sampler_for(server: subprocess.Popen):
    """CPU seconds of the server's processes and of the PostgreSQL backends serving the
    bench database (this process's own excluded), read from /proc (same machine)."""
    from django.db import connection

    def sample() -> dict[str, float]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           [connection.settings_dict["NAME"]])
            backends = [row[0] for row in cursor.fetchall()]
        return {"server": sum(_cpu_seconds(pid) for pid in _session_pids(server.pid)),
                "postgresql": sum(_cpu_seconds(pid) for pid in backends)}

    return sample


def start_server(app: str, port: int, env: dict[str, str], threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(WORKERS), "--blocking-threads", str(threads),
               "--backlog", "2048", "--log-level", "warning", "--no-access-log", app]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                if probe.recv(100):
                    time.sleep(2)  # the second worker loads Django too
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    process.wait(30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database() -> str:
    url = use_bench_database(DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from cdr.partitions import create_month
    from tenants.actions import do_bootstrap_master, do_create_account
    from tenants.models import Account, User

    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    do_bootstrap_master(name="Bench Provider", domains=["localhost", "127.0.0.1"],
                        admin_username="bench", admin_password="bench-password-long")
    actor = User.objects.get(username="bench")
    master = Account.objects.get(kind=Account.Kind.MASTER)
    reseller = do_create_account(actor, parent=master, name="Northwind", domain="northwind.example.net",
                                 kind=Account.Kind.RESELLER)
    do_create_account(actor, parent=reseller, name="Acme", domain="acme.example.net")
    create_month(date(2026, 11, 1))  # the captured calls' month
    return url


def count_rows() -> tuple[int, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT leg_uuid), count(account_id) FROM cdr_callrecord")
        return cursor.fetchone()


def clear_rows() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cdr_callrecord")


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def describe(name: str, result: Result) -> str:
    ordered = sorted(result.latencies_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"| {name} | {result.rate:.0f} | {result.replays} of {result.sent} | "
            f"{statistics.median(ordered):.1f} / {p99:.1f} | {result.cpu_ms_per_post('server'):.2f} | "
            f"{result.cpu_ms_per_post('postgresql'):.2f} | {dict(sorted(result.statuses.items()))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--replay", type=float, default=0.2, help="share of posts that are replays")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"granian threads per worker (bin/run: {THREADS}), database pool the same")
    parser.add_argument("--pool", type=int, help="DATABASE_POOL_SIZE (default: --threads, as bin/run); "
                                                  "0: a persistent connection per thread (CONN_MAX_AGE=60)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each server, interleaved")
    parser.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()

    url = prepare_database()
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url}
    print(f"load before: {loadavg()}", flush=True)
    rows = []
    problems = []
    for run in range(args.runs):
        for name, app in (("bare (reads the body, answers 200)", "bench.cdr_bare:application"),
                          ("/freeswitch/cdr (parse, attribute, insert)", "switchboard.wsgi:application")):
            port = free_port()
            pool = str(args.threads if args.pool is None else args.pool)
            server = start_server(app, port, {**env, "DATABASE_POOL_SIZE": pool}, args.threads)
            try:
                clear_rows()
                result = run_load(port, args.seconds, args.connections, args.replay, seed=run + 1,
                                  cpu_sampler=cpu_sampler_for(server))
            finally:
                stop(server)
            rows.append(describe(name, result))
            print(rows[-1], flush=True)
            if app.startswith("switchboard"):
                stored, distinct, attributed = count_rows()
                all_200 = result.statuses == {200: result.sent}
                already = result.bodies.get(b"OK (already stored)\n", 0)
                # Every leg stored once; every other post of it answered "already stored".
                ok = (all_200 and stored == distinct == len(result.legs) == attributed
                      and already == result.sent - stored)
                check = (f"run {run + 1}: {result.sent} answers, all 200: {all_200}; "
                         f"{result.sent - result.replays} new legs sent, {stored} rows ({distinct} "
                         f"distinct, {attributed} attributed); {already} answered 'already stored' "
                         f"({result.replays} replays sent)")
                print(check, flush=True)
                rows.append(f"|  | exactly once: {'yes' if ok else 'NO'} | {check} | | | | |")
                if not ok:
                    problems.append(check)
    print(f"load after: {loadavg()}", flush=True)
    table = "\n".join([
        "| server | posts/s | replays | latency p50 / p99 ms | server CPU ms/post | PostgreSQL CPU ms/post "
        "| statuses |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    print(table)
    if args.write:
        write_docs(args, table)
    if problems:
        sys.exit("exactly-once check failed: " + "; ".join(problems))


def write_docs(args: argparse.Namespace, table: str) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    text = docs.read_text()
    marker = "## Call-record ingest (issue 15)"
    section = "\n".join([
        f"### Run of {date.today().isoformat()}",
        "",
        f"Machine: {machine()}.",
        f"Command: `.venv/bin/python -m bench.cdr_ingest --seconds {args.seconds:g} "
        f"--connections {args.connections} --replay {args.replay:g} --runs {args.runs} "
        f"--threads {args.threads}" + (f" --pool {args.pool}" if args.pool is not None else "") + "`",
        f"Load average before the run: {loadavg()} (other sessions share the machine).",
        "",
        table,
        "",
    ])
    if marker not in text:
        text = text.rstrip("\n") + "\n\n" + marker + "\n\n" + section
    else:
        # At the end of the ingest section, before the next "## " heading (or the end).
        start = text.index(marker) + len(marker)
        following = text.find("\n## ", start)
        end = len(text) if following == -1 else following
        text = text[:end].rstrip("\n") + "\n\n" + section + text[end:]
    docs.write_text(text)


if __name__ == "__main__":
    main()
