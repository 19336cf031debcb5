"""The per-hour report in the account's own hours, whatever its offset from UTC: zones
half an hour and three quarters of an hour off (India, Nepal, South Australia) and the
days their clocks change (cdr.models.QuarterHourUsage)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from cdr.reports import call_report
from tests.cdr.legs import call


def hours_of(account, day: date) -> dict[datetime, int]:
    report = call_report(account, day, day)
    assert report.granularity == "hour"
    return {point.at: point.calls for point in report.series if point.calls}


def at(zone: str, *args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide"])
def test_a_call_at_local_09_10_is_in_the_09_00_hour(tree, zone):
    tree.c1.timezone = zone
    tree.c1.save(update_fields=["timezone"])
    call(tree.c1, start_at=at(zone, 2026, 11, 10, 9, 10), talk=30)
    call(tree.c1, start_at=at(zone, 2026, 11, 10, 8, 59), talk=30)
    call(tree.c1, start_at=at(zone, 2026, 11, 10, 23, 50), talk=30)
    day = date(2026, 11, 10)
    assert hours_of(tree.c1, day) == {datetime(2026, 11, 10, 8): 1, datetime(2026, 11, 10, 9): 1,
                                      datetime(2026, 11, 10, 23): 1}
    # The local day holds exactly its own calls: none spills into the next.
    assert hours_of(tree.c1, date(2026, 11, 11)) == {}
    assert call_report(tree.c1, day, day).totals.calls == 3


def test_the_days_the_clocks_change_keep_local_hours(tree):
    zone = "Australia/Adelaide"
    tree.c1.timezone = zone
    tree.c1.save(update_fields=["timezone"])
    # 5 April 2026: 03:00 daylight time (+10:30) becomes 02:00 standard time (+9:30), so
    # 02:20 happens twice; 4 October 2026: 02:00 standard becomes 03:00 daylight.
    autumn, spring = date(2026, 4, 5), date(2026, 10, 4)
    call(tree.c1, start_at=at(zone, 2026, 4, 5, 2, 20, fold=0), talk=5)
    call(tree.c1, start_at=at(zone, 2026, 4, 5, 2, 20, fold=1), talk=5)
    call(tree.c1, start_at=at(zone, 2026, 4, 5, 9, 10), talk=5)
    call(tree.c1, start_at=at(zone, 2026, 10, 4, 3, 10), talk=5)
    call(tree.c1, start_at=at(zone, 2026, 10, 4, 9, 10), talk=5)
    assert hours_of(tree.c1, autumn) == {datetime(2026, 4, 5, 2): 2, datetime(2026, 4, 5, 9): 1}
    assert hours_of(tree.c1, spring) == {datetime(2026, 10, 4, 3): 1, datetime(2026, 10, 4, 9): 1}
    # The chart's axis is the day's 24 clock hours (the repeated one holds both).
    assert len(call_report(tree.c1, autumn, autumn).series) == 24
