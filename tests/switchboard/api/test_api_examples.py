"""docs/api-examples/ run as a provider would run them: against the live server of
``bin/run`` (granian, a Celery worker that runs the import job, the embedded broker), on
a database of its own, with a fresh API key of the master. The objects it reports are
then checked through the API itself, and an import's progress is watched moving while
its job runs in the worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.test_bin_run import ROOT, child_environment, free_port, run_database_url, wait_for_banner

__all__ = ["run_database_url"]  # the fixture, used by name below

EXAMPLES = ROOT / "docs" / "api-examples"
MAKE_KEY = """
from tenants.actions import do_create_api_key
from tenants.models import User
user = User.objects.get(username="master")
_key, token = do_create_api_key(user.account, actor=user, user=user, name="api example test")
print("TOKEN", token)
"""


@pytest.fixture
def running_stack(tmp_path, run_database_url):
    """``bin/run``'s processes on free ports and a database of their own; yields (base
    URL, environment for manage.py)."""
    port, callcontrol_port = free_port(), free_port()
    env = child_environment(
        tmp_path / "data", DATABASE_URL=run_database_url, CALLCONTROL_LISTEN=f"127.0.0.1:{callcontrol_port}",
        SWITCHBOARD_CACHE_PREFIX=f"test-api-examples-{port}",
    )
    log = tmp_path / "bin-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "switchboard.devstack", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0,
        )
    try:
        wait_for_banner(process, log)
        yield f"http://127.0.0.1:{port}", env
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def master_key(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", MAKE_KEY], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return re.search(r"^TOKEN (\S+)$", done.stdout, re.MULTILINE).group(1)


def test_provision_customer_builds_a_whole_customer_through_the_live_api(running_stack):
    url, env = running_stack
    key = master_key(env)
    ran = subprocess.run([sys.executable, str(EXAMPLES / "provision_customer.py"), "--name", "Test Dental"],
                         cwd=ROOT, env={**env, "SWITCHBOARD_URL": url, "SWITCHBOARD_KEY": key},
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    made = dict(pair.split("=") for pair in re.search(r"^RESULT (.+)$", ran.stdout, re.MULTILINE)
                .group(1).split())
    assert "import job" in ran.stdout and "50 extensions with voicemail, 50 desk phones" in ran.stdout

    api = httpx.Client(base_url=f"{url}/api/v1/", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    acct = f"accounts/{made['account']}/"
    customer = api.get(acct).json()
    assert customer["kind"] == "customer" and customer["name"].startswith("Test Dental")
    extensions = api.get(f"{acct}extensions/", params={"page_size": 500}).json()
    assert extensions["count"] == 50
    assert {e["number"] for e in extensions["results"]} == {str(n) for n in range(2001, 2051)}
    assert api.get(f"{acct}devices/").json()["count"] == 53  # a desk phone each, 3 mobile apps
    boxes = api.get(f"{acct}voicemail-boxes/", params={"page_size": 500}).json()
    assert boxes["count"] == 51 and "7000" in {b["number"] for b in boxes["results"]}
    box_7000 = next(b["id"] for b in boxes["results"] if b["number"] == "7000")
    schedule = api.get(f"{acct}schedules/{made['schedule']}/").json()
    assert schedule["open_destination"] == f"ivr:{made['auto_attendant']}"
    assert schedule["closed_destination"] == f"voicemail:{box_7000}"
    assert [event["weekdays"] for event in schedule["events"]] == [[1, 2, 3, 4, 5]]
    options = api.get(f"{acct}auto-attendants/{made['auto_attendant']}/options/").json()["options"]
    assert options["1"] == f"ring_group:{made['ring_group']}"
    members = api.get(f"{acct}ring-groups/{made['ring_group']}/members/").json()
    assert len(members["members"]) == 3
    number = api.get(f"{acct}phone-numbers/{made['main_number']}/").json()
    assert (number["account"], number["route"]) == (int(made["account"]), f"schedule:{made['schedule']}")

    # A second import (a dry run) watched while the worker runs it: done moves before the
    # job's transaction ends, because progress is committed from its own connection.
    rows = "".join(f"{5000 + n},Trial {n}\n" for n in range(45))
    started = api.post(f"{acct}extensions/import/", params={"dry_run": "true"},
                       content=f"number,name\n{rows}".encode(), headers={"Content-Type": "text/csv"})
    assert started.status_code == 202, started.text
    seen, job = [], started.json()
    deadline = time.monotonic() + 120
    while job["state"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = api.get(f"jobs/{job['id']}/").json()
        seen.append((job["state"], job["done"]))
    assert (job["state"], job["done"], job["total"], job["result"]["imported"]) == ("succeeded", 45, 45, 0)
    assert any(state == "running" and 0 < done < 45 for state, done in seen), seen
    assert api.get(f"{acct}extensions/").json()["count"] == 50
