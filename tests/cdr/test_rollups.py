"""The roll-up tables kept at ingest (cdr.rollups): added to by the statement that
stores the leg, never twice for a replayed post, equal to what a backfill computes from
the records, and the outbound class read as carriers.numbering reads a dialed number."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import connection

from cdr.models import DailyUsage, ExtensionUsage, QuarterHourUsage, TrunkUsage
from cdr.rollups import ROLLUP_TABLES, backfill
from tests.cdr.legs import call, leg, put
from tests.cdr.test_endpoint import CAPTURED, send


def snapshot() -> dict[str, list[tuple]]:
    """Every roll-up row, without ids."""
    found = {}
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            columns = [column.name for column in cursor.description]
            found[table] = sorted(tuple(v for c, v in zip(columns, row, strict=True) if c != "id")
                                  for row in cursor.fetchall())
    return found


def test_captured_posts_replayed_with_retries_count_once(acme):
    for post in CAPTURED.values():
        for _attempt in range(post.attempts):
            assert send(post.name).status_code == 200
    # Two calls (conf A's and conf B's a-legs), one b-leg that rang 1002.
    hourly = [(row.account_id, row.direction, row.calls, row.answered, row.billsec)
              for row in QuarterHourUsage.objects.order_by("quarter")]
    assert sorted(hourly) == [(acme.c1.pk, "internal", 1, 1, 2), (acme.c1.pk, "internal", 1, 1, 3)]
    extensions = {(row.extension, row.role): (row.calls, row.answered)
                  for row in ExtensionUsage.objects.all()}
    assert extensions == {("1001", "made"): (2, 2), ("1002", "received"): (1, 1)}
    assert sum(row.calls for row in DailyUsage.objects.all()) == 2
    # Everything again: nothing more is counted.
    before = snapshot()
    for post in CAPTURED.values():
        send(post.name)
    assert snapshot() == before


def test_a_replayed_leg_adds_nothing(tree):
    first = leg(tree.c1, talk=30)
    assert put(first) is True
    before = snapshot()
    assert put(first) is False
    assert snapshot() == before
    assert QuarterHourUsage.objects.get().calls == 1


def test_results_and_directions_are_counted_apart(tree):
    at = datetime(2026, 11, 10, 9, 15, tzinfo=UTC)
    call(tree.c1, start_at=at, talk=60)
    call(tree.c1, start_at=at, hangup_cause="USER_BUSY", sip_status=486)
    call(tree.c1, start_at=at, hangup_cause="NO_ANSWER")
    call(tree.c1, start_at=at, hangup_cause="CALL_REJECTED")
    put(leg(tree.c1, start_at=at, talk=120, did="+14165550100", public_inbound=True, extension="",
            callee_number="+14165550100", caller_number="+12125550199"))
    rows = {row.direction: row for row in QuarterHourUsage.objects.all()}
    internal, inbound = rows["internal"], rows["inbound"]
    assert (internal.calls, internal.answered, internal.busy, internal.failed) == (4, 1, 1, 1)
    assert internal.billsec == 60
    assert (inbound.calls, inbound.answered, inbound.billsec) == (1, 1, 120)
    assert internal.quarter == datetime(2026, 11, 10, 9, 15, tzinfo=UTC)
    did = DailyUsage.objects.get(direction="inbound")
    assert (did.did, did.calls, did.day) == ("+14165550100", 1, date(2026, 11, 10))
    received = ExtensionUsage.objects.get(extension="1002", role="received")
    assert (received.calls, received.answered, received.billsec) == (4, 1, 60)


def test_outbound_calls_are_classed_from_the_accounts_country(tree):
    tree.c1.country, tree.c1.outbound_caller_id = "US", "+12125550100"
    tree.c1.save(update_fields=["country", "outbound_caller_id"])
    for number, talk in (("2125550123", 60), ("4155550123", 120), ("011442071234567", 180), ("911", 30)):
        put(leg(tree.c1, talk=talk, callee_number=number, outbound_number=number))
    classes = {row.call_class: (row.calls, row.billsec)
               for row in DailyUsage.objects.filter(direction="outbound")}
    assert classes == {"local": (1, 60), "domestic": (1, 120), "international": (1, 180),
                       "emergency": (1, 30)}


def test_a_gateway_leg_counts_for_its_trunk(tree):
    from carriers.actions import do_create_trunk

    trunk = do_create_trunk(tree.user("master_admin"), tree.master, name="A", weight_cost=10,
                            gateways=[{"server": "a.carrier.example.com"}])
    gateway = f"gw{trunk.gateways.get().pk}"
    put(leg(tree.c1, talk=42, leg="b", gateway=gateway, outbound_number="+442071234567",
            callee_number="+442071234567", extension=""))
    row = TrunkUsage.objects.get()
    assert (row.account_id, row.trunk_id, row.gateway, row.direction, row.calls, row.billsec) == (
        tree.c1.pk, trunk.pk, gateway, "outbound", 1, 42)
    # A b-leg is not a call of its own.
    assert not QuarterHourUsage.objects.exists()


def test_an_unattributed_leg_is_in_no_rollup(db):
    assert put(leg(None, talk=10))
    assert snapshot() == {table: [] for table in ROLLUP_TABLES}


def test_local_days_follow_the_accounts_time_zone(tree):
    tree.c1.timezone = "America/Toronto"
    tree.c1.save(update_fields=["timezone"])
    # 02:00 UTC on the 10th is 21:00 on the 9th in Toronto.
    call(tree.c1, start_at=datetime(2026, 11, 10, 2, 0, tzinfo=UTC), talk=5)
    assert {row.day for row in ExtensionUsage.objects.all()} == {date(2026, 11, 9)}


def test_backfill_rebuilds_exactly_what_ingest_kept(tree):
    tree.c1.country = "US"
    tree.c1.save(update_fields=["country"])
    for day in (1, 15, 30):
        at = datetime(2026, 11, day, 12, tzinfo=UTC)
        call(tree.c1, start_at=at, talk=day)
        call(tree.c1a, start_at=at, hangup_cause="NO_ANSWER", caller="2001", callee="2002")
        put(leg(tree.c1, start_at=at, talk=7, callee_number="4165550123", outbound_number="4165550123"))
    put(leg(tree.c2, start_at=datetime(2026, 12, 2, tzinfo=UTC), talk=3))
    kept = snapshot()
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    counts = backfill(date(2026, 11, 1), date(2027, 1, 1))
    assert snapshot() == kept
    assert counts["cdr_quarter_hour_usage"] == len(kept["cdr_quarter_hour_usage"])
    # Run again over the same days: the same rows, not twice the counts.
    backfill(date(2026, 11, 1), date(2027, 1, 1))
    assert snapshot() == kept


def test_the_backfill_command_covers_every_record_by_default(tree):
    from django.core.management import call_command

    call(tree.c1, start_at=datetime(2026, 10, 31, 23, tzinfo=UTC), talk=9)
    call(tree.c1, start_at=datetime(2026, 11, 1, 1, tzinfo=UTC), talk=8)
    kept = snapshot()
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    call_command("cdr_backfill_rollups", days_per_step=1, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert snapshot() == kept
