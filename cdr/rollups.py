"""The roll-up tables (cdr.models QuarterHourUsage, DailyUsage, ExtensionUsage, TrunkUsage),
kept at ingest and rebuilt from the records by :func:`backfill`.

At ingest they are added to by the very statement that inserts the leg
(``cdr.store.INSERT_SQL`` joins :data:`ROLLUP_CTES`): each upsert reads the rows the
record's ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` returned, so a retried or
replayed post, which inserts nothing, adds nothing either, and a record and its counts
are committed together or not at all.

What counts where (a call has one a-leg and one b-leg per phone or gateway it rang):

* ``cdr_quarter_hour_usage`` and ``cdr_daily_usage``: a-legs only, so one call counts once;
* ``cdr_daily_extension_usage``: every leg with an extension, as ``made`` (a-leg: the
  phone called) or ``received`` (b-leg: the phone was rung);
* ``cdr_daily_trunk_usage``: every leg that went through a gateway of a trunk.

A day is the account's local day at ingest (its time zone then); the quarter-hour table
keeps UTC quarter hours, shifted to the account's zone when read (a quarter falls in one
local hour in every zone: +5:30 and +5:45 included). Unattributed legs are in no roll-up.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.db import connection, transaction

from carriers.numbering import classify

# A leg's result, as history filters and reports read it. Busy: the callee's 486 or
# USER_BUSY. Missed: nobody answered, for an ordinary reason (rang out, caller gave up,
# another phone took it). Failed: anything else (refused, unroutable, network).
MISSED_CAUSES = ("NORMAL_CLEARING", "ORIGINATOR_CANCEL", "NO_ANSWER", "NO_USER_RESPONSE",
                 "ALLOTTED_TIMEOUT", "LOSE_RACE", "PICKED_OFF", "")
RESULTS = ("answered", "missed", "busy", "failed")
_MISSED_LIST = ", ".join(f"'{cause}'" for cause in MISSED_CAUSES)
RESULT_SQL = f"""CASE WHEN {{t}}answer_at IS NOT NULL THEN 'answered'
    WHEN {{t}}hangup_cause = 'USER_BUSY' OR {{t}}sip_status = 486 THEN 'busy'
    WHEN {{t}}hangup_cause IN ({_MISSED_LIST}) THEN 'missed' ELSE 'failed' END"""


# The UTC quarter hour a moment falls in (date_bin from a whole-hour origin).
QUARTER_SQL = "date_bin('15 minutes', {t}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"


def result_sql(alias: str = "") -> str:
    """The result CASE expression over a record's columns (``alias.`` prefixed)."""
    return RESULT_SQL.format(t=f"{alias}." if alias else "")


# The upserts, as CTEs after ``stored`` (the INSERT's RETURNING) and ``account`` (the
# attributed account with its time zone). %(call_class)s is the outbound number's class,
# decided in Python (carriers.numbering) before the statement.
ROLLUP_CTES = f"""
facts AS (
    SELECT s.account_id, s.start_at, s.leg, s.direction, s.did, s.extension, s.trunk_id, s.gateway,
        s.billsec, {result_sql('s')} AS result,
        (s.start_at AT TIME ZONE COALESCE((SELECT timezone FROM account), 'UTC'))::date AS day
    FROM stored s WHERE s.account_id IS NOT NULL
), hourly AS (
    INSERT INTO cdr_quarter_hour_usage AS u (account_id, quarter, direction, calls, answered, busy, failed,
        billsec)
    SELECT account_id, {QUARTER_SQL.format(t='start_at')}, direction, 1, (result = 'answered')::int,
        (result = 'busy')::int, (result = 'failed')::int, billsec
    FROM facts WHERE leg = 'a'
    ON CONFLICT (account_id, quarter, direction) DO UPDATE SET calls = u.calls + 1,
        answered = u.answered + EXCLUDED.answered, busy = u.busy + EXCLUDED.busy,
        failed = u.failed + EXCLUDED.failed, billsec = u.billsec + EXCLUDED.billsec
), daily AS (
    INSERT INTO cdr_daily_usage AS u (account_id, day, direction, did, call_class, calls, answered, busy,
        failed, billsec)
    SELECT account_id, day, direction, did, CASE WHEN direction = 'outbound' THEN %(call_class)s ELSE '' END,
        1, (result = 'answered')::int, (result = 'busy')::int, (result = 'failed')::int, billsec
    FROM facts WHERE leg = 'a'
    ON CONFLICT (account_id, day, direction, did, call_class) DO UPDATE SET calls = u.calls + 1,
        answered = u.answered + EXCLUDED.answered, busy = u.busy + EXCLUDED.busy,
        failed = u.failed + EXCLUDED.failed, billsec = u.billsec + EXCLUDED.billsec
), by_extension AS (
    INSERT INTO cdr_daily_extension_usage AS u (account_id, day, extension, role, calls, answered, billsec)
    SELECT account_id, day, extension, CASE WHEN leg = 'a' THEN 'made' ELSE 'received' END, 1,
        (result = 'answered')::int, billsec
    FROM facts WHERE extension <> ''
    ON CONFLICT (account_id, day, extension, role) DO UPDATE SET calls = u.calls + 1,
        answered = u.answered + EXCLUDED.answered, billsec = u.billsec + EXCLUDED.billsec
), by_trunk AS (
    INSERT INTO cdr_daily_trunk_usage AS u (account_id, day, trunk_id, gateway, direction, calls, answered,
        billsec)
    SELECT account_id, day, trunk_id, gateway, direction, 1, (result = 'answered')::int, billsec
    FROM facts WHERE trunk_id IS NOT NULL
    ON CONFLICT (account_id, day, trunk_id, gateway, direction) DO UPDATE SET calls = u.calls + 1,
        answered = u.answered + EXCLUDED.answered, billsec = u.billsec + EXCLUDED.billsec
)"""

ROLLUP_TABLES = ("cdr_quarter_hour_usage", "cdr_daily_usage", "cdr_daily_extension_usage",
                 "cdr_daily_trunk_usage")


@lru_cache(maxsize=8192)
def call_class_of(number: str, country: str, home_number: str) -> str:
    """The class of an outbound number as the account's caller means it (local,
    domestic, international, emergency), '' when it cannot be read."""
    dialed = classify(number, country or "US", home_number)
    return dialed.call_class.value if dialed is not None else ""


# The records around [since, until), attributed, with the local day of their account's
# current time zone (a backfill cannot know an older one). A day either side: no zone is
# more than 14 hours from UTC.
_FACTS = f"""
    SELECT r.account_id, r.start_at, r.leg, r.direction, r.did, r.extension, r.trunk_id, r.gateway,
        r.callee_number, r.billsec, {result_sql('r')} AS result,
        (r.start_at AT TIME ZONE a.timezone)::date AS day
    FROM cdr_callrecord r JOIN tenants_account a ON a.id = r.account_id
    WHERE r.start_at >= %(since)s::date - 1 AND r.start_at < %(until)s::date + 1
"""


def backfill(since: date, until: date) -> dict[str, int]:
    """Rebuild the roll-ups of the days [since, until) from the records: the daily tables'
    rows of those local days, the hourly table's rows of those UTC days. For records
    stored before the roll-ups existed, or after a repair; rows of days whose records
    retention has deleted are deleted too.

    One transaction that first takes a SHARE lock on the records, so no leg is inserted
    (and counted) meanwhile: ingest waits (FreeSWITCH retries on a timeout) and resumes
    on commit."""
    params = {"since": since, "until": until}
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE cdr_callrecord IN SHARE MODE")
        cursor.execute(f"CREATE TEMP TABLE rollup_all ON COMMIT DROP AS {_FACTS}", params)
        cursor.execute("CREATE TEMP TABLE rollup_facts ON COMMIT DROP AS SELECT * FROM rollup_all "
                       "WHERE day >= %(since)s AND day < %(until)s", params)
        # Outbound numbers classified once per (account, number), in Python as at ingest.
        cursor.execute(
            """SELECT DISTINCT f.account_id, f.callee_number, a.country, a.outbound_caller_id
               FROM rollup_facts f JOIN tenants_account a ON a.id = f.account_id
               WHERE f.direction = 'outbound' AND f.leg = 'a'""")
        classes = [(account_id, number, call_class_of(number, country, home))
                   for account_id, number, country, home in cursor.fetchall()]
        cursor.execute("CREATE TEMP TABLE rollup_classes (account_id bigint, number text, call_class text) "
                       "ON COMMIT DROP")
        if classes:
            cursor.executemany("INSERT INTO rollup_classes VALUES (%s, %s, %s)", classes)
        for table in ROLLUP_TABLES[1:]:
            cursor.execute(f"DELETE FROM {table} WHERE day >= %(since)s AND day < %(until)s", params)
        cursor.execute("DELETE FROM cdr_quarter_hour_usage WHERE quarter >= %(since)s::date::timestamptz "
                       "AND quarter < %(until)s::date::timestamptz", params)
        cursor.execute(f"""
            INSERT INTO cdr_quarter_hour_usage (account_id, quarter, direction, calls, answered, busy, failed,
                billsec)
            SELECT account_id, {QUARTER_SQL.format(t='start_at')}, direction, count(*),
                count(*) FILTER (WHERE result = 'answered'), count(*) FILTER (WHERE result = 'busy'),
                count(*) FILTER (WHERE result = 'failed'), coalesce(sum(billsec), 0)
            FROM rollup_all WHERE leg = 'a' AND start_at >= %(since)s::date::timestamptz
                AND start_at < %(until)s::date::timestamptz
            GROUP BY 1, 2, 3""", params)
        counts["cdr_quarter_hour_usage"] = cursor.rowcount
        cursor.execute("""
            INSERT INTO cdr_daily_usage (account_id, day, direction, did, call_class, calls, answered, busy,
                failed, billsec)
            SELECT f.account_id, f.day, f.direction, f.did,
                CASE WHEN f.direction = 'outbound' THEN coalesce(c.call_class, '') ELSE '' END, count(*),
                count(*) FILTER (WHERE result = 'answered'), count(*) FILTER (WHERE result = 'busy'),
                count(*) FILTER (WHERE result = 'failed'), coalesce(sum(billsec), 0)
            FROM rollup_facts f LEFT JOIN rollup_classes c
                ON c.account_id = f.account_id AND c.number = f.callee_number
            WHERE f.leg = 'a' GROUP BY 1, 2, 3, 4, 5""")
        counts["cdr_daily_usage"] = cursor.rowcount
        cursor.execute("""
            INSERT INTO cdr_daily_extension_usage (account_id, day, extension, role, calls, answered, billsec)
            SELECT account_id, day, extension, CASE WHEN leg = 'a' THEN 'made' ELSE 'received' END, count(*),
                count(*) FILTER (WHERE result = 'answered'), coalesce(sum(billsec), 0)
            FROM rollup_facts WHERE extension <> '' GROUP BY 1, 2, 3, 4""")
        counts["cdr_daily_extension_usage"] = cursor.rowcount
        cursor.execute("""
            INSERT INTO cdr_daily_trunk_usage (account_id, day, trunk_id, gateway, direction, calls, answered,
                billsec)
            SELECT account_id, day, trunk_id, gateway, direction, count(*),
                count(*) FILTER (WHERE result = 'answered'), coalesce(sum(billsec), 0)
            FROM rollup_facts WHERE trunk_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5""")
        counts["cdr_daily_trunk_usage"] = cursor.rowcount
        # ON COMMIT DROP does not fire inside an outer transaction (a caller's atomic).
        cursor.execute("DROP TABLE rollup_all, rollup_facts, rollup_classes")
    return counts
