"""The monthly partitions of ``cdr_callrecord`` and retention.

A month's partition is created ahead of time (Celery beat, cdr.tasks); a record whose
month has no partition lands in the default partition, and creating that month later
moves its rows out of the default first (PostgreSQL refuses to attach a range the
default partition holds rows of). Retention drops a whole month when no account keeps
records that long, and otherwise deletes row by row with each account's own limit.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

TABLE = "cdr_callrecord"
DEFAULT_PARTITION = "cdr_callrecord_default"


def month_start(day: date, add: int = 0) -> date:
    months = day.year * 12 + (day.month - 1) + add
    return date(months // 12, months % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def existing_partitions() -> dict[str, tuple[datetime, datetime]]:
    """Monthly partitions by name, with their [from, to) bounds."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE p.relname = %s AND n.nspname = 'public' AND c.relname <> %s
            """,
            [TABLE, DEFAULT_PARTITION],
        )
        rows = cursor.fetchall()
    found = {}
    for name, _bound in rows:
        try:
            first = date(int(name[-7:-3]), int(name[-2:]), 1)
        except ValueError:
            continue
        found[name] = (datetime(first.year, first.month, 1, tzinfo=UTC),
                       _as_datetime(month_start(first, 1)))
    return found


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def create_month(month: date) -> bool:
    """Create the partition of ``month`` (UTC) unless it exists; True if created."""
    name = partition_name(month)
    lower, upper = _as_datetime(month), _as_datetime(month_start(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"public.{name}"])
        if cursor.fetchone()[0] is not None:
            return False
        # Serialises with ingest for this one statement's span; rows of that month
        # arriving meanwhile wait, then land in the new partition.
        cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE start_at >= %s AND start_at < %s "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [lower, upper],
        )
        moved = cursor.rowcount
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                       [lower.isoformat(), upper.isoformat()])
    log.info("cdr: created partition %s (%d rows moved from the default)", name, moved)
    return True


def ensure_partitions(today: date | None = None, ahead: int | None = None) -> list[str]:
    """The current month and ``ahead`` months after it (CDR_PARTITIONS_AHEAD)."""
    today = today or datetime.now(UTC).date()
    ahead = settings.CDR_PARTITIONS_AHEAD if ahead is None else ahead
    created = []
    for add in range(ahead + 1):
        month = month_start(today, add)
        if create_month(month):
            created.append(partition_name(month))
    return created


def longest_retention_days() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(keep_days) FROM cdr_retentionpolicy")
        longest_policy = cursor.fetchone()[0]
    return max(settings.CDR_RETENTION_DAYS, longest_policy or 0)


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Drop the months no account keeps any more, delete older rows account by account,
    and empty ``raw`` after CDR_RAW_RETENTION_DAYS."""
    now = now or datetime.now(UTC)
    dropped = 0
    keep_all_since = now - timedelta(days=longest_retention_days())
    for name, (_lower, upper) in sorted(existing_partitions().items()):
        if upper <= keep_all_since:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            dropped += 1
            log.info("cdr: dropped partition %s (older than every account's retention)", name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {TABLE} r
            WHERE r.start_at < %(now)s - make_interval(days => %(shortest)s)
              AND r.start_at < %(now)s - make_interval(days => COALESCE(
                    (SELECT p.keep_days FROM cdr_retentionpolicy p WHERE p.account_id = r.account_id),
                    %(default)s))
            """,
            {"now": now, "default": settings.CDR_RETENTION_DAYS, "shortest": _shortest_retention_days()},
        )
        deleted = cursor.rowcount
        cursor.execute(
            f"UPDATE {TABLE} SET raw = NULL WHERE raw IS NOT NULL AND start_at < %s",
            [now - timedelta(days=settings.CDR_RAW_RETENTION_DAYS)],
        )
        raw_emptied = cursor.rowcount
    return {"partitions_dropped": dropped, "rows_deleted": deleted, "raw_emptied": raw_emptied}


def _shortest_retention_days() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(keep_days) FROM cdr_retentionpolicy")
        shortest_policy = cursor.fetchone()[0]
    return min(settings.CDR_RETENTION_DAYS, shortest_policy if shortest_policy is not None else 10**6)
