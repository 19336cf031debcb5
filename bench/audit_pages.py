"""The audit log's API pages (tenants/api/views/audit.py) over a long log: a cursor over
(time, id) against the page-number pages the other lists use (a count and an OFFSET),
in the same run.

Usage: .venv/bin/python -m bench.audit_pages [--events 1000000] [--repeat 30] [--keep]
The table it prints is what docs/benchmarks.md ("Audit log pages") holds.

A fresh database (``switchboard_bench_audit``) is migrated and given a provider with 4
resellers and 1,000 customers (rows only: the log needs no tenant schema), then
``--events`` audit events over a year, made by PostgreSQL (generate_series) with every
index in place: 12 % of them Big Co's (a customer of reseller 1), one customer ("Small
Co") with a few dozen, the rest spread over the other customers; actors are the
provider's admin. Measured for the master, reseller 1 (its subtree: about a quarter of
the log), Big Co and Small Co, as their own staff see it (AuditEvent.objects.visible_to
plus the path of the account asked about, exactly the view's queryset), each ``--repeat``
times warm: the first page and a page 10,000 events deep by cursor (what the API
answers), against that deep page by OFFSET and the count a numbered page also needs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import machine

DATABASE = "switchboard_bench_audit"
RESELLERS = 4
CUSTOMERS = 1000
DEEP = 10_000
PAGE = 50


def setup_django(keep: bool) -> None:
    common.setup_django(DATABASE, keep)


def make_accounts() -> None:
    common.make_account_tree(RESELLERS, CUSTOMERS,
                             name_of=lambda c: {0: "Big Co", 4: "Small Co"}.get(c, f"Customer {c}"))


GENERATE = """
WITH accounts AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM tenants_account
    WHERE kind = 'customer' AND name NOT IN ('Big Co', 'Small Co')
)
INSERT INTO tenants_auditevent (at, actor_id, actor_username, account_id, account_name, scope_path, action,
                                details, ip)
SELECT now() - (n::float / %(events)s) * interval '365 days',
       %(actor)s, 'bench', a.id, a.name, a.path,
       (ARRAY['extension.create', 'extension.update', 'ring_group.update', 'device.create',
              'voicemail.pin'])[1 + n %% 5],
       jsonb_build_object('number', (1000 + n %% 9000)::text, 'name', 'Object ' || n),
       '192.0.2.1'
FROM generate_series(1, %(events)s) AS n
CROSS JOIN accounts
JOIN tenants_account a ON a.id = CASE
    WHEN n %% (%(events)s / 40) = 1 THEN %(small)s
    WHEN n %% 100 < 12 THEN %(big)s
    ELSE accounts.ids[1 + (hashint4(n) & 2147483647) %% array_length(accounts.ids, 1)]
END
"""


def generate(events: int) -> float:
    from django.db import connection

    from tenants.models import Account, User

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(GENERATE, {"events": events, "actor": User.objects.get(username="bench").pk,
                                  "big": Account.objects.get(name="Big Co").pk,
                                  "small": Account.objects.get(name="Small Co").pk})
        # As autovacuum would have by then (the accounts were bulk-inserted too): without
        # statistics the planner takes a subtree for one account and sorts all its events.
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def measure(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    work()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]


def measure_viewer(label: str, root, repeat: int) -> list[tuple[str, int, str, tuple[float, float]]]:
    from rest_framework.pagination import Cursor
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from tenants.api.views.audit import NewestFirst
    from tenants.models import AuditEvent

    # The view's queryset for the root's staff asking about their own account.
    events = AuditEvent.objects.visible_to(root)
    if not root.is_master:
        events = events.filter(scope_path__startswith=root.path)
    rows = events.count()
    factory = APIRequestFactory()

    def page(query: str = "") -> list:
        request = Request(factory.get(f"/api/v1/accounts/{root.pk}/audit-events/{query}"))
        return [e.pk for e in NewestFirst().paginate_queryset(events, request)]

    deep = events.order_by("-at", "-id")[min(DEEP, max(rows - 1, 0)):][:1].first()
    cursor_query = ""
    if deep is not None:
        pages = NewestFirst()
        pages.base_url = "http://bench/"
        cursor_query = "?" + pages.encode_cursor(Cursor(offset=0, reverse=False,
                                                        position=str(deep.at))).split("?", 1)[1]
    results = []
    for how, work in [
        ("cursor, first page", page),
        (f"cursor, {DEEP:,} deep", lambda: page(cursor_query)),
        (f"baseline: OFFSET {DEEP:,}",
         lambda: list(events.order_by("-at", "-id")[DEEP:DEEP + PAGE].values_list("pk", flat=True))),
        ("baseline: count (a numbered page's)", events.count),
    ]:
        figures = measure(work, repeat)
        print(f"  {label} ({rows} events) / {how}: p50 {figures[0]:.2f} ms, p99 {figures[1]:.2f} ms",
              flush=True)
        results.append((label, rows, how, figures))
    return results


def run_measurements(repeat: int) -> list[tuple[str, int, str, tuple[float, float]]]:
    from tenants.models import Account

    master = Account.objects.get(kind=Account.Kind.MASTER)
    big = Account.objects.get(name="Big Co")
    viewers = [("master", master), ("reseller 1", Account.objects.get(path=big.path[:-Account.steplen])),
               ("Big Co", big), ("Small Co", Account.objects.get(name="Small Co"))]
    return [row for label, root in viewers for row in measure_viewer(label, root, repeat)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the generated database")
    options = parser.parse_args()
    setup_django(options.keep)
    if not options.keep:
        make_accounts()
        print(f"generated {options.events:,} events in {generate(options.events):.1f} s", flush=True)
    results = run_measurements(options.repeat)
    print(f"\nmachine: {machine()}")
    print("| viewer (events it sees) | page | p50 ms | p99 ms |\n|---|---|---|---|")
    for label, rows, how, (p50, p99) in results:
        print(f"| {label} ({rows:,}) | {how} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
