"""Reports over call records, read from the roll-up tables (cdr.rollups), never from the
records: their cost follows the number of days, extensions, numbers and accounts in the
answer, not the number of calls (docs/benchmarks.md, "Call reports").

* :func:`call_report`: ASR (answered / calls), ALOC (average talk time of the answered
  calls), calls per hour (a range of up to two days) or per day, per-extension summary,
  per-number (DID) and per-trunk usage. For a reseller or the master, over its subtree.
* :func:`usage`: a reseller's or the master's month per descendant account, each with
  its own figures and its subtree's (rolled up the tree): calls, minutes, outbound
  minutes by class.

Calls are a-legs (one per call); the per-extension summary counts legs (a phone rung by
a ring group has a leg of its own)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection

from cdr.filtersets import day_bounds
from cdr.queries import subtree_ids
from tenants.models import Account

CLASSES = ("local", "domestic", "international", "emergency", "")
# A range of at most this many days is charted per hour, a longer one per day.
HOURLY_UP_TO_DAYS = 2


@dataclass
class Totals:
    calls: int = 0
    answered: int = 0
    busy: int = 0
    failed: int = 0
    billsec: int = 0

    @property
    def missed(self) -> int:
        return self.calls - self.answered - self.busy - self.failed

    @property
    def asr(self) -> float | None:
        """Answer-seizure ratio, in percent; None without calls."""
        return round(100 * self.answered / self.calls, 1) if self.calls else None

    @property
    def aloc(self) -> float | None:
        """Average length of the answered calls, in seconds; None when none was."""
        return round(self.billsec / self.answered, 1) if self.answered else None

    def add(self, calls: int, answered: int, busy: int, failed: int, billsec: int) -> None:
        self.calls += calls
        self.answered += answered
        self.busy += busy
        self.failed += failed
        self.billsec += billsec

    def as_dict(self) -> dict:
        return {"calls": self.calls, "answered": self.answered, "missed": self.missed, "busy": self.busy,
                "failed": self.failed, "talk_seconds": self.billsec, "asr_percent": self.asr,
                "aloc_seconds": self.aloc}


@dataclass(frozen=True)
class Point:
    at: datetime  # local time, naive: the start of the hour or day
    calls: int
    answered: int


@dataclass(frozen=True)
class ExtensionRow:
    account_id: int
    extension: str
    placed: int
    placed_answered: int
    placed_seconds: int
    rung: int
    picked_up: int
    received_seconds: int

    @property
    def missed(self) -> int:
        return self.rung - self.picked_up


@dataclass(frozen=True)
class UsageRow:
    """Calls, answered calls and talk seconds of one key (a DID, a trunk)."""

    account_id: int
    label: str
    direction: str
    calls: int
    answered: int
    seconds: int


@dataclass
class CallReport:
    since: date
    until: date
    granularity: str  # "hour" or "day"
    totals: Totals
    by_direction: dict[str, Totals]
    series: list[Point]
    extensions: list[ExtensionRow]
    numbers: list[UsageRow]
    trunks: list[UsageRow]


def _local_range(account: Account, since: date | None,
                 until: date | None) -> tuple[date, date, datetime, datetime]:
    zone = zoneinfo.ZoneInfo(account.timezone)
    start, end = day_bounds(since, until, zone)
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date() - timedelta(days=1)
    return first, last, start, end


def call_report(account: Account, since: date | None = None, until: date | None = None) -> CallReport:
    """The report of ``account`` (its subtree for a reseller or the master) over the
    local days since..until, both included (default: the last 30 days)."""
    first, last, start, end = _local_range(account, since, until)
    ids = subtree_ids(account)
    granularity = "hour" if (last - first).days < HOURLY_UP_TO_DAYS else "day"
    totals, by_direction = Totals(), defaultdict(Totals)
    series = []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT date_trunc(%(unit)s, quarter AT TIME ZONE %(zone)s) AS at, direction,
                   sum(calls), sum(answered), sum(busy), sum(failed), sum(billsec)
               FROM cdr_quarter_hour_usage
               WHERE account_id = ANY(%(ids)s) AND quarter >= %(start)s AND quarter < %(end)s
               GROUP BY 1, 2 ORDER BY 1""",
            {"unit": granularity, "zone": account.timezone, "ids": ids, "start": start, "end": end})
        per_point: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for at, direction, calls, answered, busy, failed, billsec in cursor.fetchall():
            figures = (int(calls), int(answered), int(busy), int(failed), int(billsec))
            totals.add(*figures)
            by_direction[direction].add(*figures)
            per_point[at][0] += figures[0]
            per_point[at][1] += figures[1]
        series = _fill(per_point, first, last, granularity)
        days = {"ids": ids, "first": first, "last": last}
        cursor.execute(
            """SELECT account_id, extension, role, sum(calls), sum(answered), sum(billsec)
               FROM cdr_daily_extension_usage
               WHERE account_id = ANY(%(ids)s) AND day >= %(first)s AND day <= %(last)s
               GROUP BY 1, 2, 3""", days)
        per_extension: dict[tuple[int, str], dict[str, tuple[int, int, int]]] = defaultdict(dict)
        for account_id, extension, role, calls, answered, billsec in cursor.fetchall():
            per_extension[account_id, extension][role] = (int(calls), int(answered), int(billsec))
        extensions = sorted(
            (ExtensionRow(account_id, extension, *roles.get("made", (0, 0, 0)),
                          *roles.get("received", (0, 0, 0)))
             for (account_id, extension), roles in per_extension.items()),
            key=lambda row: (row.account_id != account.pk, row.account_id, _number_key(row.extension)))
        cursor.execute(
            """SELECT account_id, did, direction, sum(calls), sum(answered), sum(billsec)
               FROM cdr_daily_usage
               WHERE account_id = ANY(%(ids)s) AND day >= %(first)s AND day <= %(last)s AND did <> ''
               GROUP BY 1, 2, 3 ORDER BY 4 DESC, 2""", days)
        numbers = [UsageRow(a, did, d, int(c), int(n), int(s)) for a, did, d, c, n, s in cursor.fetchall()]
        # A trunk is named only to the account that owns it or one above that owner; to
        # anyone else (a customer on its provider's trunks) it is "the provider's trunk".
        cursor.execute(
            """SELECT u.account_id,
                   CASE WHEN owner.path LIKE %(path)s THEN t.name ELSE '' END AS trunk,
                   u.direction, sum(u.calls), sum(u.answered), sum(u.billsec)
               FROM cdr_daily_trunk_usage u
               LEFT JOIN carriers_trunk t ON t.id = u.trunk_id
               LEFT JOIN tenants_account owner ON owner.id = t.account_id
               WHERE u.account_id = ANY(%(ids)s) AND u.day >= %(first)s AND u.day <= %(last)s
               GROUP BY 1, 2, 3 ORDER BY 4 DESC, 2""", {**days, "path": account.path + "%"})
        trunks = [UsageRow(a, name or "Provider's trunk", d, int(c), int(n), int(s))
                  for a, name, d, c, n, s in cursor.fetchall()]
    return CallReport(first, last, granularity, totals, dict(by_direction), series, extensions, numbers,
                      trunks)


def _number_key(number: str) -> tuple[int, str]:
    return (len(number), number)


def _fill(per_point: dict[datetime, list[int]], first: date, last: date, granularity: str) -> list[Point]:
    """Every hour or day of the range, zero where there was no call (a chart's axis)."""
    step = timedelta(hours=1) if granularity == "hour" else timedelta(days=1)
    at = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    points = []
    while at < end:
        calls, answered = per_point.get(at, (0, 0))
        points.append(Point(at, calls, answered))
        at += step
    return points


# ----------------------------------------------------------------------------------------
# Usage per descendant account, rolled up the tree.


@dataclass
class Figures:
    calls: int = 0
    billsec: int = 0
    outbound_billsec: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))

    def add(self, other: Figures) -> None:
        self.calls += other.calls
        self.billsec += other.billsec
        for name, seconds in other.outbound_billsec.items():
            self.outbound_billsec[name] += seconds

    def as_dict(self) -> dict:
        classes = {name or "unknown": _minutes(seconds) for name, seconds in self.outbound_billsec.items()}
        return {"calls": self.calls, "minutes": _minutes(self.billsec), "outbound_minutes": classes}


def _minutes(seconds: int) -> float:
    return round(seconds / 60, 1)


@dataclass
class AccountUsage:
    account: Account
    depth: int  # 0 for the account asked about
    own: Figures
    subtree: Figures


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def usage(account: Account, month: date) -> list[AccountUsage]:
    """``account`` and every account below it, in tree order, with the month's figures:
    its own (its a-legs: calls, talk minutes, outbound talk minutes by class) and its
    subtree's (its own plus every descendant's). A month is the accounts' local days."""
    first, following = month_bounds(month)
    accounts = list(Account.objects.subtree_of(account).order_by("path"))
    own: dict[int, Figures] = {row.pk: Figures() for row in accounts}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT account_id, direction, call_class, sum(calls), sum(billsec)
               FROM cdr_daily_usage
               WHERE account_id = ANY(%(ids)s) AND day >= %(first)s AND day < %(following)s
               GROUP BY 1, 2, 3""",
            {"ids": list(own), "first": first, "following": following})
        for account_id, direction, call_class, calls, billsec in cursor.fetchall():
            figures = own[account_id]
            figures.calls += int(calls)
            figures.billsec += int(billsec)
            if direction == "outbound":
                figures.outbound_billsec[call_class if call_class in CLASSES else ""] += int(billsec)
    by_path = {row.path: row.pk for row in accounts}
    subtree: dict[int, Figures] = {pk: Figures() for pk in own}
    steplen = Account.steplen
    base_depth = len(account.path) // steplen
    for row in accounts:
        # Each account's own figures count for it and for every ancestor up to ``account``.
        for end in range(len(account.path), len(row.path) + 1, steplen):
            ancestor = by_path.get(row.path[:end])
            if ancestor is not None:
                subtree[ancestor].add(own[row.pk])
    return [AccountUsage(row, len(row.path) // steplen - base_depth, own[row.pk], subtree[row.pk])
            for row in accounts]
