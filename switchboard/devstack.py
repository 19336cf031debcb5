"""The README's two commands: ``run`` (the whole system with demo data) and ``test``.

Both work on a machine with nothing but Python: without ``DATABASE_URL`` they start the
embedded PostgreSQL, without ``CELERY_BROKER_URL`` Celery uses the filesystem transport.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from switchboard.database import EMBEDDED_DATA_DIR, database_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PYTEST_NO_TESTS_COLLECTED = 5


def manage(*args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def banner(web_port: int) -> str:
    from tenants.demo import DEMO_LOGINS

    where = "embedded PostgreSQL in .data/postgres" if "host=" in os.environ["DATABASE_URL"] \
        else os.environ["DATABASE_URL"].split("@")[-1]
    broker = os.environ.get("CELERY_BROKER_URL") or "filesystem (.data/celery)"
    lines = [
        "",
        "Switchboard is running.",
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


def run(args: argparse.Namespace) -> int:
    database_url()
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("SWITCHBOARD_PORTAL_PORT", str(args.port))
    manage("migrate_all", "--verbosity", "0")
    manage("seed_demo")
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        children["web"] = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"], cwd=ROOT
        )
        children["celery"] = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "switchboard", "worker", "--pool=solo", "--beat",
             f"--schedule={EMBEDDED_DATA_DIR / 'celerybeat-schedule'}",
             "--loglevel=WARNING", "--hostname=switchboard@%h"],
            cwd=ROOT,
        )
        children["callcontrol"] = subprocess.Popen(
            [PYTHON, "manage.py", "run_callcontrol"], cwd=ROOT
        )
        time.sleep(1.5)
        print(banner(args.port), flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping everything.", flush=True)
                    exit_code, stopping = child.returncode or 1, True
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return exit_code


def parallel_args(pytest_args: list[str]) -> list[str]:
    """One pytest-xdist worker per core unless the arguments choose (``-n 0`` or
    ``-p no:xdist`` to debug in one process): most of a test's time is PostgreSQL working
    for it, so a second worker keeps a second core busy. Each worker has its own test
    database (pytest-django adds ``_gw0``, ``_gw1``, ...) on the same server."""
    for arg in pytest_args:
        if arg in ("-n", "--numprocesses") or arg.startswith(("-n", "--numprocesses=")) or "no:xdist" in arg:
            return []
    return ["--numprocesses", "auto"]


def test(pytest_args: list[str]) -> int:
    database_url()
    lint = subprocess.run([PYTHON, "-m", "ruff", "check", "."], cwd=ROOT)
    if lint.returncode:
        print("ruff found problems (above); fix them before the tests run.", flush=True)
        return lint.returncode
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


def main() -> int:
    parser = argparse.ArgumentParser(prog="switchboard")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the whole system with demo data")
    run_parser.add_argument("--host", default=os.environ.get("SWITCHBOARD_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("SWITCHBOARD_PORT", "8000")))
    sub.add_parser("test", help="run the whole test suite (extra arguments go to pytest)")
    args, rest = parser.parse_known_args()
    os.chdir(ROOT)
    if args.command == "run":
        return run(args)
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
