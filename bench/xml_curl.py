"""The mod_xml_curl endpoint (/freeswitch/) under load, against nginx serving the same bytes.

Usage: .venv/bin/python -m bench.xml_curl [--quick] [--rebuild] [--servers NAME ...]

Data: 1,000 customer accounts (``--quick``: 20) under 10 resellers, 100 extensions of one
device each and 4 DIDs routed to extensions, built once into its own database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/switchboard_bench[_quick])
and reused while complete (``--rebuild`` starts over). Requests: the captured fixtures
rewritten per tenant (bench/xml_curl_load.py). Each server runs with production settings
(DEBUG off, Redis cache, allowlist and gateway credentials) and is measured for:

* warm: every key fetched once first; then wrk closed loop (max fetches/s) and the
  constant-rate client at ``--rate`` (default 500) fetches/s, p50/p99 from each request's
  due time;
* cold: the server restarted, a few fetches of other keys (process warm-up), Redis flushed,
  then keys never fetched before, 5 shapes x every tenant, at ``--rate``; and again
  (another fresh key set) closed loop for the cold maximum.

nginx serves the largest document (sip_auth) as a static file to the same wrk script and
the same constant-rate client: the baseline. A full run appends its table to
docs/benchmarks.md ("xml_curl endpoint"); ``--quick`` only prints it.

``--cold-compare directory mix``: cold fetches only, directory lookups from the tenant's
schema (bench/xml_curl_schema_settings.py, the code before the public directory index)
and from the index, alternating, ``--repeat`` times each, for the directory lookups of a
registration storm (7 shapes) and/or the 5-shape mix; printed, not written to the docs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import xml_curl_load as load
from bench.common import machine
from bench.xml_curl_data import Spec, ensure, open_database

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CREDENTIALS = "fsxml:s3cret-xml"  # the captures' Authorization header
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "switchboard.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-5c1f0e7a9b2d4c6e8f0a1b3c5d7e9f1a",
    "SWITCHBOARD_SIP_SECRET_KEY": "bench-only-sip-key",
    "REDIS_URL": REDIS_URL,
    "FREESWITCH_ALLOWED_NETWORKS": "127.0.0.0/8",
    "FREESWITCH_GATEWAY_CREDENTIALS": CREDENTIALS,
    "SWITCHBOARD_SPARE_SCHEMAS": "0",
    "LOG_LEVEL": "WARNING",
}
WORKERS = 2  # one per core on the benchmark machine
COLD_KEYS = 1000  # per cold run: one key per tenant (shapes in turn), or every shape when few


@dataclass(frozen=True)
class Server:
    name: str
    argv: tuple[str, ...]  # "{port}" is replaced
    settings: str = "switchboard.settings"
    note: str = ""

    def command(self, port: int) -> list[str]:
        return [arg.replace("{port}", str(port)) for arg in self.argv]


def _gunicorn(worker_args: tuple[str, ...]) -> tuple[str, ...]:
    return (str(VENV_BIN / "gunicorn"), "switchboard.wsgi:application", "-b", "127.0.0.1:{port}",
            "-w", str(WORKERS), "--backlog", "2048", "--log-level", "warning", *worker_args)


SERVERS = {
    "gunicorn-gevent": Server("gunicorn-gevent", _gunicorn(("-k", "gevent", "--worker-connections", "1000")),
                              note="CONN_MAX_AGE=60 (settings default)"),
    "gunicorn-gevent-pool": Server("gunicorn-gevent-pool",
                                   _gunicorn(("-k", "gevent", "--worker-connections", "1000")),
                                   settings="bench.settings_pool", note="psycopg pool 4..16 per worker"),
    "granian-wsgi": Server("granian-wsgi", (
        str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}",
        "--workers", str(WORKERS), "--blocking-threads", "4", "--backlog", "2048",
        "--log-level", "warning", "--no-access-log", "switchboard.wsgi:application",
    ), note="4 blocking threads per worker, CONN_MAX_AGE=60"),
    "granian-wsgi-1t": Server("granian-wsgi-1t", (
        str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", "{port}",
        "--workers", str(WORKERS), "--blocking-threads", "1", "--backlog", "2048",
        "--log-level", "warning", "--no-access-log", "switchboard.wsgi:application",
    ), note="1 blocking thread per worker, CONN_MAX_AGE=60"),
    "gunicorn-gthread": Server("gunicorn-gthread", _gunicorn(("-k", "gthread", "--threads", "4")),
                               note="4 threads per worker, CONN_MAX_AGE=60"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A server we started, in its own process group, stopped by its id."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env},
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            load.wait_for_port(port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start; see {log}") from None

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def start_nginx(document: bytes) -> Process:
    """nginx as an unprivileged foreground process on a high port, answering every POST to
    /freeswitch/ with ``document`` (static module; 405 for POST turned into the file), with
    a generated configuration in a temporary directory."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    www = workdir / "www"
    www.mkdir(parents=True, exist_ok=True)
    (www / "response.xml").write_bytes(document)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes {WORKERS};
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=2048;
        root {www};
        location /freeswitch/ {{ rewrite ^ /response.xml last; }}
        location = /response.xml {{ default_type text/xml; error_page 405 =200 $uri; }}
    }}
}}
""")
    argv = ["nginx", "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(conf)]
    if os.geteuid() == 0:
        os.chmod(workdir, 0o755)
        shutil.chown(workdir, "nobody", "nogroup")
        os.chmod(www / "response.xml", 0o644)
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    return Process(argv, port, {}, workdir / "nginx.log")


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@dataclass
class Row:
    name: str
    warm_max: float = 0.0
    warm_rate: load.Result | None = None
    warm_low: load.Result | None = None
    cold_max: load.Result | None = None
    cold_rate: load.Result | None = None
    bad: int = 0


def _pct(result: load.Result | None) -> str:
    if result is None:
        return "n/a"
    return f"{result.percentile(50):.1f} / {result.percentile(99):.1f}"


def cycle(requests: list[bytes], count: int) -> list[bytes]:
    return (requests * (1 + count // len(requests)))[:count]


def _bad(result: load.Result | None) -> int:
    if result is None:
        return 0
    return result.errors + sum(n for status, n in result.statuses.items() if status != 200)


def measure_server(server: Server, bodies: load.Bodies, spec: Spec, args, workdir: Path,
                   script: Path, warm: list[bytes]) -> Row:
    env = {**SERVER_ENV, "DJANGO_SETTINGS_MODULE": server.settings}
    log = workdir / f"{server.name}.log"
    row = Row(server.name)
    cold_keys = {}
    for slot in (0, 1):  # slot 0: cold at the fixed rate, slot 1: cold closed loop
        keys = bodies.key_set(range(spec.tenants), slot, every_shape=spec.tenants <= COLD_KEYS // 5)
        random.Random(slot).shuffle(keys)
        cold_keys[slot] = [fetch.request("127.0.0.1", bodies.authorization) for fetch in keys]
    warmup = [f.request("127.0.0.1", bodies.authorization)
              for f in bodies.key_set(range(min(spec.tenants, 10)), 2)]

    def restart_cold() -> Process:
        process = Process(server.command(port), port, env, log)
        load.run(port, warmup, concurrency=4)  # imports, connections, both workers: not the cache
        flush_cache()
        return process

    port = free_port()
    flush_cache()
    process = Process(server.command(port), port, env, log)
    try:
        load.run(port, warm, concurrency=8)  # prime: every warm key fetched once
        result = load.wrk(port, script, args.seconds, args.connections)
        row.warm_max, row.bad = result.throughput, result.bad
        row.warm_rate = load.run(port, cycle(warm, args.rate * args.seconds), rate=args.rate)
        row.warm_low = load.run(port, cycle(warm, args.low_rate * args.seconds), rate=args.low_rate)
        process.stop()
        process = restart_cold()
        row.cold_rate = load.run(port, cold_keys[0], rate=args.rate)
        process.stop()
        process = restart_cold()
        row.cold_max = load.run(port, cold_keys[1], concurrency=args.connections)
    finally:
        process.stop()
    row.bad += sum(_bad(r) for r in (row.warm_rate, row.warm_low, row.cold_rate, row.cold_max))
    print(f"  {server.name}: warm {row.warm_max:.0f}/s, p50/p99 {_pct(row.warm_rate)} ms; "
          f"cold {row.cold_max.throughput:.0f}/s, p50/p99 {_pct(row.cold_rate)} ms; "
          f"bad {row.bad}", flush=True)
    return row


def start_cold(server: Server, port: int, env: dict[str, str], log: Path, warmup: list[bytes]) -> Process:
    """A fresh server, its processes warmed on other keys, then the document cache emptied."""
    process = Process(server.command(port), port, env, log)
    load.run(port, warmup, concurrency=4)
    flush_cache()
    return process


COMPARE_SETTINGS = {"tenant schema": "bench.xml_curl_schema_settings",
                    "public index": "switchboard.settings"}
COMPARE_SHAPES = {"directory": list(load.DIRECTORY_SHAPES), "mix": list(load.SHAPES)}


def check_compare(bodies: load.Bodies, tenant: int, slot: int) -> str:
    """Every directory shape answered (in process) with the same bytes from the index as
    from the tenant's schema; the queries each takes."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1",
                    HTTP_AUTHORIZATION=bodies.authorization)
    notes = []
    for shape, (_, expected) in load.DIRECTORY_SHAPES.items():
        fetch = bodies.fetch(shape, tenant, slot)
        answers, counts = {}, {}
        for variant, from_index in (("schema", False), ("index", True)):
            flush_cache()
            with override_settings(FSCONF_DIRECTORY_INDEX=from_index), \
                    CaptureQueriesContext(connection) as captured:
                response = client.post("/freeswitch/", fetch.body,
                                       content_type="application/x-www-form-urlencoded")
            if response.status_code != 200 or expected not in response.content:
                raise SystemExit(f"{shape} ({variant}): unexpected answer {response.status_code}\n"
                                 f"{response.content.decode()[:2000]}")
            answers[variant] = response.content
            counts[variant] = sum(not q["sql"].startswith("SET search_path") for q in captured)
        if answers["schema"] != answers["index"]:
            raise SystemExit(f"{shape}: the index answers differently from the tenant schema")
        notes.append(f"{shape}: {counts['schema']} / {counts['index']}")
    return "; ".join(notes)


def inprocess_cold(bodies: load.Bodies, spec: Spec, slot: int) -> list[str]:
    """Markdown rows: each directory lookup variant in this process, on one new database
    connection, one cold fetch per tenant in turn (the directory shapes in turn), timed one
    by one: the server's own cost per cold fetch, without HTTP, queueing or other clients."""
    from django.db import connections
    from django.test import Client, override_settings

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1",
                    HTTP_AUTHORIZATION=bodies.authorization)
    rows = []
    for variant, from_index in (("tenant schema", False), ("public index", True)):
        fetches = bodies.key_set(range(spec.tenants), slot, every_shape=False,
                                 shapes=list(load.DIRECTORY_SHAPES))
        slot += 1
        connections.close_all()
        flush_cache()
        times = []
        with override_settings(FSCONF_DIRECTORY_INDEX=from_index):
            for fetch in fetches:
                start = time.perf_counter()
                response = client.post("/freeswitch/", fetch.body,
                                       content_type="application/x-www-form-urlencoded")
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200 and b"not found" not in response.content
        ordered = sorted(times)
        rows.append(f"| {variant} | {len(times):,} | {statistics.median(ordered):.2f} | "
                    f"{ordered[round(0.99 * (len(ordered) - 1))]:.2f} | {sum(times) / len(times):.2f} |")
    connections.close_all()
    return rows


def cold_compare(args, spec: Spec, bodies: load.Bodies, workdir: Path) -> list[str]:
    """Markdown rows: server, shapes, variant, run, cold max, cold p50 / p99 at the rate."""
    warmup = [f.request("127.0.0.1", bodies.authorization)
              for f in bodies.key_set(range(min(spec.tenants, 10)), 2, shapes=list(load.ALL_SHAPES))]
    rows, slot = [], 5
    for server in args.servers:
        for group in args.cold_compare:
            for run in range(1, args.repeat + 1):
                for variant, settings_module in COMPARE_SETTINGS.items():
                    env = {**SERVER_ENV, "DJANGO_SETTINGS_MODULE": settings_module}
                    log = workdir / f"{SERVERS[server].name}-compare.log"
                    results = []
                    for _ in ("rate", "max"):
                        keys = bodies.key_set(range(spec.tenants), slot, every_shape=False,
                                              shapes=COMPARE_SHAPES[group])
                        slot = 5 if slot >= 19 else slot + 1
                        random.Random(slot).shuffle(keys)
                        requests = [f.request("127.0.0.1", bodies.authorization) for f in keys]
                        port = free_port()
                        process = start_cold(SERVERS[server], port, env, log, warmup)
                        try:
                            results.append(load.run(port, requests, rate=args.rate) if not results
                                           else load.run(port, requests, concurrency=args.connections))
                        finally:
                            process.stop()
                    rate, most = results
                    bad = _bad(rate) + _bad(most)
                    rows.append(f"| {server} | {group} | {variant} | {run} | {most.throughput:,.0f} | "
                                f"{_pct(rate)} | {rate.percentile(100):.1f} | {bad} |")
                    print(rows[-1], flush=True)
    return rows


def measure_nginx(document: bytes, args, script: Path, warm: list[bytes]) -> Row:
    process = start_nginx(document)
    try:
        result = load.wrk(process.port, script, args.seconds, args.connections)
        rate = load.run(process.port, cycle(warm, args.rate * args.seconds), rate=args.rate)
        low = load.run(process.port, cycle(warm, args.low_rate * args.seconds), rate=args.low_rate)
    finally:
        process.stop()
        shutil.rmtree(process.log.parent, ignore_errors=True)
    row = Row("nginx static file", warm_max=result.throughput, warm_rate=rate, warm_low=low,
              bad=result.bad + _bad(rate) + _bad(low))
    print(f"  nginx: {row.warm_max:.0f}/s, p50/p99 at {args.rate}/s {_pct(rate)} ms", flush=True)
    return row


def check_shapes(bodies: load.Bodies, tenant: int, slot: int) -> tuple[dict[str, str], bytes]:
    """Every shape answered (in process, Django test client) with the document it should
    get; SQL per cold fetch. Returns {shape: "N queries + M SET search_path"} and the
    largest document (nginx's baseline file)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1",
                    HTTP_AUTHORIZATION=bodies.authorization)
    report, largest = {}, b""
    flush_cache()
    for shape, (_, expected) in load.SHAPES.items():
        fetch = bodies.fetch(shape, tenant, slot)
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/freeswitch/", fetch.body,
                                   content_type="application/x-www-form-urlencoded")
        if response.status_code != 200 or expected not in response.content \
                or b"not found" in response.content:
            raise SystemExit(f"{shape}: unexpected answer {response.status_code}\n"
                             f"{response.content.decode()[:2000]}")
        sql = [q["sql"] for q in captured]
        search_path = sum(s.startswith("SET search_path") for s in sql)
        report[shape] = f"{len(sql) - search_path} + {search_path} SET search_path"
        if shape == "dialplan outbound":
            actions = re.findall(r'application="([^"]+)" data="([^"]*)"', response.content.decode())
            report[shape] += f" (answered: {' '.join(actions[-1]) if actions else 'no action'})"
        largest = max(largest, response.content, key=len)
    return report, largest


def gevent_check(settings: str) -> str:
    """Does psycopg yield to other greenlets under gevent's monkey-patching? Two greenlets
    each wait 0.3 s in PostgreSQL: ~0.3 s together if it does, ~0.6 s if it blocks."""
    code = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import time, gevent, django; django.setup()\n"
        "from django.db import connection, connections\n"
        "def sleep():\n"
        "    with connection.cursor() as c: c.execute('SELECT pg_sleep(0.3)')\n"
        "    connections.close_all()\n"
        "sleep(); t = time.perf_counter(); gevent.joinall([gevent.spawn(sleep) for _ in range(2)])\n"
        "print(f'{time.perf_counter() - t:.2f}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **SERVER_ENV, "DJANGO_SETTINGS_MODULE": settings})
    seconds = float(out.stdout.strip() or "nan")
    verdict = "cooperative" if seconds < 0.5 else "BLOCKS the worker"
    return f"two concurrent 0.3 s queries took {seconds:.2f} s: {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20 tenants, short runs, no docs")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument("--build-only", action="store_true", help="build or check the data set, stop")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=sorted(SERVERS))
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--low-rate", type=int, default=100,
                        help="a second fixed rate, warm: the latency when not near capacity")
    parser.add_argument("--seconds", type=int, help="wrk and fixed-rate durations (10; quick 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk and closed-loop clients")
    parser.add_argument("--cold-compare", nargs="+", choices=sorted(COMPARE_SHAPES),
                        help="cold only: directory lookups from the tenant schema vs the index")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each --cold-compare variant")
    args = parser.parse_args()
    # The full run drives two system programs (Debian packages), which neither bin/run nor
    # bin/test needs: say so before building anything, rather than fail halfway.
    full_run = not (args.cold_compare or args.build_only)
    missing = [program for program in ("nginx", "wrk") if full_run and shutil.which(program) is None]
    if missing:
        parser.error(f"{' and '.join(missing)} not found on PATH; on Debian/Ubuntu: "
                     "apt-get install -y nginx wrk")
    args.seconds = args.seconds or (3 if args.quick else 10)
    spec = Spec(tenants=20 if args.quick else 1000, extensions=100)
    name = "switchboard_bench_quick" if args.quick else "switchboard_bench"
    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{name}")

    os.environ.update(SERVER_ENV)
    open_database(url, args.rebuild)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    print(f"data set: {ensure(spec)}", flush=True)
    if args.build_only:
        return
    bodies = load.Bodies(spec.extensions, spec.dids)
    if args.cold_compare:
        if args.servers == sorted(SERVERS):
            args.servers = ["granian-wsgi"]
        print(f"queries per cold fetch, schema / index: {check_compare(bodies, spec.tenants - 1, 4)}",
              flush=True)
        from django.db import connections

        connections.close_all()
        inprocess = ["| directory lookups from | cold fetches | p50 ms | p99 ms | mean ms |",
                     "|---|---|---|---|---|"]
        for run in range(args.repeat):
            inprocess += inprocess_cold(bodies, spec, 5 + 2 * run)
        print("In process, one new connection, one cold directory fetch per tenant in turn:\n")
        print("\n".join(inprocess), flush=True)
        workdir = Path(tempfile.mkdtemp(prefix="bench-xml-curl-"))
        keys = "one per tenant, the shapes in turn"
        print(f"\nCold: server restarted, warmed on other keys, Redis flushed; {spec.tenants:,} keys "
              f"never fetched before ({keys}) at {args.rate}/s, then another {spec.tenants:,} "
              f"closed loop ({args.connections} clients).\n")
        header = ["| server | shapes | directory lookups from | run | cold max fetches/s | "
                  f"cold p50 / p99 ms at {args.rate}/s | max ms | failed |",
                  "|---|---|---|---|---|---|---|---|"]
        print("\n".join(header), flush=True)
        rows = cold_compare(args, spec, bodies, workdir)
        print("\n" + "\n".join(inprocess) + "\n\n" + "\n".join(header + rows))
        print(f"server logs: {workdir}")
        return
    queries, document = check_shapes(bodies, tenant=spec.tenants - 1, slot=4)
    from django.db import connections

    connections.close_all()
    gevent_note = gevent_check("switchboard.settings")
    print(f"psycopg under gevent: {gevent_note}", flush=True)

    warm_fetches = bodies.key_set(range(min(spec.tenants, 200)), 3)
    warm = [fetch.request("127.0.0.1", bodies.authorization) for fetch in warm_fetches]
    workdir = Path(tempfile.mkdtemp(prefix="bench-xml-curl-"))
    script = load.wrk_script(workdir / "fetch.lua", warm_fetches, bodies.authorization)
    rows = [measure_nginx(document, args, script, warm)]
    for server in args.servers:
        rows.append(measure_server(SERVERS[server], bodies, spec, args, workdir, script, warm))
    print(f"server logs: {workdir}")

    command = ".venv/bin/python -m bench.xml_curl" + (" --quick" if args.quick else "") + \
        (f" --servers {' '.join(args.servers)}" if args.servers != sorted(SERVERS) else "")
    text = report(rows, spec, args, queries, gevent_note, command, len(warm))
    print()
    print(text)
    if not args.quick:
        write_docs(text)


def report(rows: list[Row], spec: Spec, args, queries: dict[str, str], gevent_note: str,
           command: str, warm_keys: int) -> str:
    nginx = rows[0].warm_max
    every_shape = spec.tenants <= COLD_KEYS // 5
    cold_keys = spec.tenants * 5 if every_shape else spec.tenants
    cold_spread = "5 shapes x every tenant" if every_shape else "one per tenant, the 5 shapes in turn"
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}; PostgreSQL at 127.0.0.1:5432 (the machine's server), Redis "
        f"{REDIS_URL.rsplit('/', 1)[0]} as the cache (`REDIS_URL`); load generator on the same machine.",
        f"Date: {date.today().isoformat()}.",
        "",
        f"Data: {spec.tenants:,} customer accounts under 10 resellers, {spec.extensions} extensions "
        f"with one device each, {spec.dids} DIDs each ({spec.version}). Shapes, interleaved: "
        + ", ".join(load.SHAPES) + ". Every fetch on a new TCP connection (`Connection: close`).",
        f"Warm: {warm_keys:,} keys (5 shapes x {warm_keys // 5} tenants), each fetched once before "
        f"measuring; max = wrk -t2 -c{args.connections} for {args.seconds} s. Cold: server restarted, "
        f"Redis flushed, {cold_keys:,} keys never fetched before ({cold_spread}), "
        f"at {args.rate}/s (p50/p99) and, with another fresh key set, closed loop "
        f"({args.connections} clients) for the cold max. Fixed-rate latencies count from each "
        "request's due time (no coordinated omission).",
        f"Servers: {WORKERS} workers each, production settings (DEBUG off). "
        + "; ".join(f"{s.name}: {s.note}" for s in SERVERS.values() if s.name in args.servers) + ".",
        "",
        f"| server | warm max fetches/s | x nginx | warm p50 / p99 ms at {args.rate}/s | "
        f"warm p50 / p99 ms at {args.low_rate}/s | cold max fetches/s | "
        f"cold p50 / p99 ms at {args.rate}/s | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cold_max = f"{row.cold_max.throughput:,.0f}" if row.cold_max else "n/a"
        lines.append(f"| {row.name} | {row.warm_max:,.0f} | {row.warm_max / nginx:.3f} | "
                     f"{_pct(row.warm_rate)} | {_pct(row.warm_low)} | {cold_max} | "
                     f"{_pct(row.cold_rate)} | {row.bad} |")
    lines += [
        "",
        "Targets: warm >= 0.25x nginx and p99 <= 5 ms at 500/s; cold p99 <= 25 ms.",
        "",
        "SQL per cold fetch (in process, cache cleared; queries + django-tenants' "
        "`SET search_path` round trips): "
        + "; ".join(f"{shape}: {count}" for shape, count in queries.items()) + ".",
        f"psycopg 3 under gevent monkey-patching: {gevent_note}.",
    ]
    return "\n".join(lines)


BEGIN, END = "<!-- bench.xml_curl: begin -->", "<!-- bench.xml_curl: end -->"


def write_docs(text: str) -> None:
    """Replace the generated part of the "xml_curl endpoint" section (append it the first
    time); prose around the markers is kept."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## xml_curl endpoint (issue 3)\n\n" + block + "\n"
    path.write_text(doc)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
