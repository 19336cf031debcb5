"""Monthly partitions created ahead (moving rows out of the default partition), and
retention: whole months dropped when no account keeps them, else row by row."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from cdr.models import CallRecord, RetentionPolicy
from cdr.partitions import (
    DEFAULT_PARTITION,
    apply_retention,
    create_month,
    ensure_partitions,
    existing_partitions,
    month_start,
    partition_name,
)
from cdr.tasks import ensure_partitions_task, retention_task


def insert(account, start_at: datetime, raw: bytes | None = b"x") -> uuid.UUID:
    leg = uuid.uuid4()
    CallRecord.objects.create(
        leg_uuid=leg, start_at=start_at, account=account, account_path=account.path if account else "",
        leg="a", call_uuid=leg, direction="internal", format="json", received_at=start_at, raw=raw)
    return leg


def partition_of(leg: uuid.UUID) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM cdr_callrecord WHERE leg_uuid = %s", [leg])
        return cursor.fetchone()[0]


def test_month_arithmetic():
    assert month_start(date(2026, 12, 7), 1) == date(2027, 1, 1)
    assert month_start(date(2027, 1, 31), -1) == date(2026, 12, 1)
    assert partition_name(date(2027, 3, 1)) == "cdr_callrecord_y2027m03"


def test_migration_created_this_month_and_the_next_two(db):
    today = datetime.now(UTC).date()
    names = set(existing_partitions())
    for add in range(3):
        assert partition_name(month_start(today, add)) in names


def test_ensure_is_idempotent_and_goes_ahead(db):
    today = datetime.now(UTC).date()
    created = ensure_partitions(ahead=5)
    assert created == [partition_name(month_start(today, add)) for add in (3, 4, 5)]
    assert ensure_partitions(ahead=5) == []
    assert ensure_partitions_task.name == "cdr.ensure_partitions"


def test_creating_a_month_moves_its_rows_out_of_the_default(tree):
    long_ago = datetime(2020, 2, 10, tzinfo=UTC)
    leg = insert(tree.c1, long_ago)
    other = insert(tree.c1, datetime(2020, 3, 1, tzinfo=UTC))
    assert partition_of(leg) == DEFAULT_PARTITION
    assert create_month(date(2020, 2, 1))
    assert partition_of(leg) == "cdr_callrecord_y2020m02"
    assert partition_of(other) == DEFAULT_PARTITION
    # A new record of that month goes straight to its partition.
    assert partition_of(insert(tree.c2, long_ago + timedelta(days=3))) == "cdr_callrecord_y2020m02"


def test_retention_drops_months_no_account_keeps(tree, settings):
    settings.CDR_RETENTION_DAYS = 90
    now = datetime(2026, 12, 7, tzinfo=UTC)
    create_month(date(2026, 6, 1))
    old = insert(tree.c1, datetime(2026, 6, 15, tzinfo=UTC))
    recent = insert(tree.c1, datetime(2026, 11, 20, tzinfo=UTC))
    result = apply_retention(now)
    assert result["partitions_dropped"] >= 1
    assert "cdr_callrecord_y2026m06" not in existing_partitions()
    assert set(CallRecord.objects.values_list("leg_uuid", flat=True)) == {recent}
    assert old not in set(CallRecord.objects.values_list("leg_uuid", flat=True))


def test_an_account_keeping_longer_keeps_the_month_and_others_lose_rows(tree, settings):
    settings.CDR_RETENTION_DAYS = 90
    now = datetime(2026, 12, 7, tzinfo=UTC)
    create_month(date(2026, 6, 1))
    RetentionPolicy.objects.create(account=tree.c2, keep_days=365)
    RetentionPolicy.objects.create(account=tree.c0, keep_days=10)
    c1_old = insert(tree.c1, datetime(2026, 6, 15, tzinfo=UTC))
    c2_old = insert(tree.c2, datetime(2026, 6, 15, tzinfo=UTC))
    c0_recentish = insert(tree.c0, now - timedelta(days=20))
    c1_recentish = insert(tree.c1, now - timedelta(days=20))
    unattributed_old = insert(None, datetime(2026, 6, 16, tzinfo=UTC))
    result = apply_retention(now)
    assert "cdr_callrecord_y2026m06" in existing_partitions()
    kept = set(CallRecord.objects.values_list("leg_uuid", flat=True))
    assert kept == {c2_old, c1_recentish}
    assert {c1_old, c0_recentish, unattributed_old}.isdisjoint(kept)
    assert result["rows_deleted"] == 3


def test_raw_posts_are_emptied_after_their_own_period(tree, settings):
    settings.CDR_RAW_RETENTION_DAYS = 30
    now = datetime.now(UTC)
    older = insert(tree.c1, now - timedelta(days=31))
    newer = insert(tree.c1, now - timedelta(days=1))
    apply_retention(now)
    raws = dict(CallRecord.objects.values_list("leg_uuid", "raw"))
    assert raws[older] is None and bytes(raws[newer]) == b"x"
    assert retention_task.name == "cdr.retention"
