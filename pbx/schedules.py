"""Is a schedule open now, and where does the call go? One pure function, ``evaluate``.

Every event is turned into the instants it covers (half-open intervals in UTC), so the
answer and the moment it can next change (``valid_until``, how long the dialplan may
cache it) come from the same intervals and cannot disagree.

Wall-clock times are read in the schedule's timezone (the account's when empty):

* a time that does not exist (02:30 on a spring-forward day) is read as the instant
  the clocks jump, so an event keeps exactly the part of its range that exists
  (02:00-03:00 covers nothing that day, 02:30-04:00 covers 03:00-04:00);
* a time that exists twice (01:30 on a fall-back day) is read as its first occurrence,
  for starts and ends alike, so adjacent ranges (…-01:30, 01:30-…) still tile without
  gap or overlap; an event ending inside the repeated hour ends on its first pass;
* a range whose end is not after its start spans midnight and belongs to the day it
  starts on; for a once/yearly event that is only when start and end fall on the same
  date (on a multi-day event the start time applies on the first day, the end time on
  the last);
* a yearly event's Feb 29 is read as Feb 28 in other years, as calendars do for
  anniversaries.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbx.models.media import Prompt
from pbx.models.schedules import EventRepeat, Schedule, ScheduleAction, ScheduleEvent

# How far ahead boundaries are looked for. Past it valid_until is simply capped (an
# earlier valid_until is always safe: the cache asks again).
HORIZON = timedelta(days=7)

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class ScheduleDecision:
    event: ScheduleEvent | None  # None: no event matched, the default applies
    action: str  # a ScheduleAction value
    destination: str  # a stored destination ("" hangs up)
    prompt: Prompt | None
    reason: str
    valid_until: datetime  # aware, UTC: the decision cannot change before this instant

    @property
    def is_open(self) -> bool:
        return self.action == ScheduleAction.OPEN


def evaluate(schedule: Schedule, at: datetime, *, default_timezone: str,
             events: Iterable[ScheduleEvent] | None = None) -> ScheduleDecision:
    """The decision of ``schedule`` at the aware instant ``at``. ``events`` (or the
    schedule's events, prefetched or not) are ordered here by position, then id."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("evaluate() needs an aware datetime.")
    at = at.astimezone(UTC)
    tz = ZoneInfo(schedule.timezone or default_timezone)
    ordered = sorted(schedule.events.all() if events is None else events,
                     key=lambda event: (event.position, event.id or 0))
    until = at + HORIZON
    for event in ordered:
        intervals = event_intervals(event, tz, around=at)
        index = bisect_right(intervals, (at, _FAR_FUTURE)) - 1
        if index >= 0 and intervals[index][1] > at:
            until = min(until, intervals[index][1])
            return _decision(schedule, event, until,
                             f'event "{event.name}" ({describe_event(event)}) matched')
        if index + 1 < len(intervals):
            # A higher-priority event starting before the current answer ends wins then.
            until = min(until, intervals[index + 1][0])
    label = ScheduleAction(schedule.default_action).label
    return _decision(schedule, None, until, f"no event matched: default {label}")


def _decision(schedule: Schedule, event: ScheduleEvent | None, until: datetime,
              reason: str) -> ScheduleDecision:
    action = event.action if event is not None else schedule.default_action
    if action == ScheduleAction.OPEN:
        destination = schedule.open_destination
    elif action == ScheduleAction.CLOSED:
        destination = schedule.closed_destination
    else:
        destination = event.destination if event is not None else schedule.default_destination
    # Only touch the relation when there is one: a missing prompt costs no query.
    if event is not None:
        prompt = event.prompt if event.prompt_id is not None else None
    else:
        prompt = schedule.default_prompt if schedule.default_prompt_id is not None else None
    return ScheduleDecision(event=event, action=action, destination=destination, prompt=prompt,
                            reason=reason, valid_until=until)


_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


# --- wall clock → instants -------------------------------------------------------------


def to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the naive wall-clock ``wall`` in ``tz`` (see the module
    docstring for times that do not exist or exist twice). Never decreases as ``wall``
    increases, so a range never turns into a negative interval."""
    first = wall.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap fold=0 uses the offset before the jump (an instant after it) and fold=1
    # the offset after (an instant before it): the jump lies between; find it to the
    # second (tzdata transitions fall on whole seconds).
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = instant
    after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-empty, and with touching or overlapping occurrences joined: the same
    event continuing is not a change of decision."""
    merged: list[Interval] = []
    for start, end in sorted(interval for interval in intervals if interval[0] < interval[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def event_intervals(event: ScheduleEvent, tz: ZoneInfo, *, around: datetime) -> list[Interval]:
    """The instants ``event`` covers, as merged intervals, for every occurrence that may
    contain ``around`` or start within HORIZON after it (later ones may be missing)."""
    return _merge([(to_instant(start, tz), to_instant(end, tz))
                   for start, end in wall_ranges(event, around.astimezone(tz).date())])


def wall_ranges(event: ScheduleEvent, day: date) -> list[tuple[datetime, datetime]]:
    """The naive wall-clock [start, end) ranges of ``event`` near local date ``day``:
    from those that started before it and may still run, to a week and more after."""
    if event.repeat == EventRepeat.WEEKLY:
        return _weekly_ranges(event, day)
    if event.start_date is None:
        return []
    if event.repeat == EventRepeat.ONCE:
        return [_dated_range(event, event.start_date, event.end_date or event.start_date)]
    ranges = []
    start_md = (event.start_date.month, event.start_date.day)
    end = event.end_date or event.start_date
    end_md = (end.month, end.day)
    # A yearly range lasts at most a year: the previous year's may still be running.
    last_year = (day + HORIZON + timedelta(days=2)).year
    for year in range(day.year - 1, last_year + 1):
        end_year = year + 1 if end_md < start_md else year
        ranges.append(_dated_range(event, _on(year, *start_md), _on(end_year, *end_md)))
    return ranges


def _on(year: int, month: int, day: int) -> date:
    if (month, day) == (2, 29) and not _is_leap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _spans_midnight(event: ScheduleEvent) -> bool:
    return (not event.all_day and event.start_time is not None and event.end_time is not None
            and event.end_time <= event.start_time)


def _dated_range(event: ScheduleEvent, first: date, last: date) -> tuple[datetime, datetime]:
    if event.all_day:
        return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())
    start = datetime.combine(first, event.start_time or time())
    if event.end_time is None:
        end = datetime.combine(last + timedelta(days=1), time())
    else:
        end_day = last + timedelta(days=1) if first == last and _spans_midnight(event) else last
        end = datetime.combine(end_day, event.end_time)
    return start, end


def _weekly_ranges(event: ScheduleEvent, day: date) -> list[tuple[datetime, datetime]]:
    days = set(event.weekdays or ())
    if not days or not (event.all_day or (event.start_time is not None and event.end_time is not None)):
        return []
    ranges = []
    # An occurrence lasts at most a day past the day it starts on.
    for offset in range(-2, HORIZON.days + 3):
        current = day + timedelta(days=offset)
        if current.isoweekday() not in days:
            continue
        if (event.start_date and current < event.start_date) or (event.end_date and current > event.end_date):
            continue
        if event.all_day:
            ranges.append((datetime.combine(current, time()),
                           datetime.combine(current + timedelta(days=1), time())))
            continue
        end_day = current + timedelta(days=1) if _spans_midnight(event) else current
        ranges.append((datetime.combine(current, event.start_time),
                       datetime.combine(end_day, event.end_time)))
    return ranges


# --- for people ------------------------------------------------------------------------


def _weekday_list(days: Sequence[int]) -> str:
    days = sorted(set(days))
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAY_NAMES[run[0] - 1]}-{WEEKDAY_NAMES[run[-1] - 1]}")
        else:
            parts.extend(WEEKDAY_NAMES[day - 1] for day in run)
    return ", ".join(parts)


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def describe_event(event: ScheduleEvent) -> str:
    """When an event applies, as a person reads it: "every week Mon-Fri 08:30-12:30",
    "every year 12-24 to 12-26", "on 2025-12-31 22:00 to 2026-01-01 02:00"."""
    if event.repeat == EventRepeat.WEEKLY:
        hours = ("all day" if event.all_day
                 else f"{_hhmm(event.start_time)}-{_hhmm(event.end_time)}")
        text = f"every week {_weekday_list(event.weekdays or [])} {hours}"
        if event.start_date or event.end_date:
            text += f" ({event.start_date or '…'} to {event.end_date or '…'})"
        return text
    if event.start_date is None:
        return "never"
    end = event.end_date or event.start_date
    fmt = "%m-%d" if event.repeat == EventRepeat.YEARLY else "%Y-%m-%d"
    prefix = "every year" if event.repeat == EventRepeat.YEARLY else "on"
    first, last = event.start_date.strftime(fmt), end.strftime(fmt)
    if event.all_day or (event.start_time is None and event.end_time is None):
        return f"{prefix} {first}" if first == last else f"{prefix} {first} to {last}"
    start_time = _hhmm(event.start_time or time())
    end_time = _hhmm(event.end_time) if event.end_time is not None else "24:00"
    return f"{prefix} {first} {start_time} to {last} {end_time}"
