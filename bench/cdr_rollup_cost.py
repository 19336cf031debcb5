"""What the roll-ups add to storing one leg: the statement before them (the commit
before the roll-ups, read from git) against today's, in one process, interleaved.

Usage: .venv/bin/python -m bench.cdr_rollup_cost [--legs 300] [--rounds 6]

Needs the database bench/cdr_ingest.py leaves (``switchboard_bench_cdr``, with its
"Acme" customer). Each round stores ``--legs`` new legs, one autocommit statement each,
first with the old statement then with the new one; every other round the legs are
outbound (classified). Printed: milliseconds per leg, per round and the median.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "74d4151^"  # the commit before the roll-ups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--legs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    from bench.common import machine
    from switchboard.database import database_url

    os.environ["DATABASE_URL"] = database_url().rsplit("/", 1)[0] + "/switchboard_bench_cdr"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    import django

    django.setup()
    from cdr import store as after
    from cdr.ingest import Fields
    from cdr.partitions import create_month
    from tenants.models import Account

    source = subprocess.run(["git", "show", f"{BEFORE}:cdr/store.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("store_before", handle.name)
    before = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before)
    acme = Account.objects.get(name="Acme")
    start = datetime(2026, 11, 10, 9, tzinfo=UTC)
    create_month(start.date().replace(day=1))

    def legs(count: int, outbound: bool) -> list[Fields]:
        made = []
        for index in range(count):
            leg = uuid.uuid4()
            made.append(Fields(
                leg_uuid=leg, leg="a", call_uuid=leg, other_leg_uuid=None,
                start_at=start + timedelta(seconds=index),
                answer_at=start + timedelta(seconds=index + 5), end_at=start + timedelta(seconds=index + 35),
                duration=35, billsec=30, hangup_cause="NORMAL_CLEARING", q850=16, sip_status=None,
                caller_number="1001", caller_name="", callee_number="2125550123" if outbound else "1002",
                extension="1001", did="", gateway="", destination_kind="extension", app="",
                account_hint=str(acme.pk), domain_hint="", node="fs1", format="json", public_inbound=False,
                outbound_number="2125550123" if outbound else ""))
        return made

    timings: dict[str, list[float]] = {"before (no roll-ups)": [], "after (roll-ups)": []}
    for round_number in range(args.rounds):
        for name, store in (("before (no roll-ups)", before.store), ("after (roll-ups)", after.store)):
            batch = legs(args.legs, outbound=round_number % 2 == 1)
            started = time.perf_counter()
            for fields in batch:
                assert store(fields, b"{}")
            timings[name].append((time.perf_counter() - started) / len(batch) * 1000)
    print(f"Machine: {machine()}; load {os.getloadavg()}")
    for name, values in timings.items():
        rounds = [round(value, 2) for value in values]
        print(f"{name}: ms/leg per round {rounds}, median {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
