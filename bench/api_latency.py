"""API latency at 1,000 extensions in one tenant, through the real web server, beside a
bare DRF view served by the same server in the same run.

Usage: .venv/bin/python -m bench.api_latency [--extensions 1000] [--requests 300]
       [--concurrency 1 4]

A fresh database (switchboard_bench_api) on the configured server: the platform, one
customer with ``--extensions`` extensions (a voicemail box and a desk phone each, made
with bulk inserts and indexed, as bench.xml_curl_index_cost does), an admin's API key.
The web server is granian as bin/run starts it (switchboard.devstack.web_server_command:
2 workers x 4 threads, a pool of 4 connections per worker), with bench.settings_api,
which only adds the bare view (bench/api_urls.py) and lifts the per-key rate limit.

Timed, per concurrency (clients with keep-alive, each request waits for its answer):
  * bare DRF view: GET, no authentication, a fixed small JSON;
  * list: GET /api/v1/accounts/{id}/extensions/ (the default page of 50, with devices);
  * create: POST the same path, a new extension each (its box, the audit event, the
    extension's directory-index rows updated in the write's transaction).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine, use_bench_database

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_api")
WARMUP = 20


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup(extensions: int) -> tuple[int, str]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from fsconf.directory_index import rebuild
    from pbx.models import Device, Extension, VoicemailBox
    from tenants.actions import do_bootstrap_master, do_create_account, do_create_api_key
    from tenants.models import User

    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    master = do_bootstrap_master(name="Bench", domains=["localhost", "127.0.0.1"], admin_username="bench",
                                 admin_password="bench-password-long")
    actor = User.objects.get(username="bench")
    account = do_create_account(actor, parent=master, name="Latency 1000", domain="latency.bench.example.net",
                                max_extensions=extensions * 10, max_concurrent_calls=20)
    with schema_context(account.schema_name):
        made = Extension.objects.bulk_create([
            Extension(number=str(10000 + n), name=f"User {n}") for n in range(extensions)])
        VoicemailBox.objects.bulk_create([
            VoicemailBox(number=e.number, name=e.name, extension=e, pin="135790") for e in made])
        Device.objects.bulk_create([
            Device(extension=e, username=e.number, secret_encrypted="x" * 80) for e in made])
    rebuild(account)
    _key, token = do_create_api_key(master, actor=actor, user=actor, name="latency bench")
    call_command("collectstatic", interactive=False, verbosity=0)
    return account.pk, token


def start_server(port: int) -> subprocess.Popen:
    from django.conf import settings

    from switchboard.devstack import WEB_THREADS, web_server_command

    command = web_server_command("127.0.0.1", port, "/" + settings.STATIC_URL.strip("/"),
                                 Path(settings.STATIC_ROOT))
    env = {**os.environ, "DATABASE_POOL_SIZE": str(WEB_THREADS), "DJANGO_DEBUG": "0",
           "SWITCHBOARD_API_RATE": "1000000/minute", "PGAPPNAME": "switchboard-bench-web"}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/bare/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the web server did not answer")


def timed(port: int, token: str, requests: int, concurrency: int, make) -> tuple[list[float], dict[int, int]]:
    """Milliseconds per request over ``concurrency`` keep-alive clients; ``make(client, i)``
    sends request i."""
    import httpx

    samples: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                start = time.perf_counter()
                response = make(http, i)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    samples.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extensions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args()
    use_bench_database("switchboard_bench_api")
    account_id, token = setup(args.extensions)
    server = start_server(args.port)
    path = f"/api/v1/accounts/{account_id}/extensions/"
    numbers = iter(range(200000, 900000))
    number_lock = threading.Lock()

    def create(http, i):
        with number_lock:
            number = str(next(numbers))
        return http.post(path, json={"number": number, "name": f"Bench {number}"})

    targets = {
        "bare DRF view (GET)": lambda http, i: http.get("/bench/bare/"),
        "extension list (GET, page of 50)": lambda http, i: http.get(path),
        "extension create (POST)": create,
    }
    rows = []
    try:
        for concurrency in args.concurrency:
            for name, make in targets.items():
                timed(args.port, token, WARMUP, concurrency, make)
                start = time.perf_counter()
                samples, statuses = timed(args.port, token, args.requests, concurrency, make)
                wall = time.perf_counter() - start
                ordered = sorted(samples)
                rows.append((name, concurrency, _percentile(ordered, 0.5), _percentile(ordered, 0.99),
                             len(samples) / wall, statuses))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"Machine: {machine()}")
    print(f"Load: {os.getloadavg()[0]:.1f} (1-min average at the end; the machine is shared)")
    print(f"{args.extensions:,} extensions in the tenant (+ one per create request), {args.requests} "
          f"requests per cell after {WARMUP} warm-up, granian 2 workers x 4 threads.\n")
    print("| request | clients | p50 ms | p99 ms | requests/s | statuses |")
    print("|---|---|---|---|---|---|")
    for name, concurrency, p50, p99, rate, statuses in rows:
        print(f"| {name} | {concurrency} | {p50:.1f} | {p99:.1f} | {rate:.0f} | "
              f"{', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} |")


if __name__ == "__main__":
    main()
