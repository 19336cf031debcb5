"""Schedules (opening hours) with their events and holidays, and a week view.

The schedule's settings are the generic pages; its events are edited one by one on
their own pages (``do_add_schedule_event`` …), ordered with up/down buttons (the first
that matches decides), and the week view shows what ``pbx.schedules.evaluate`` -- the
function the dialplan asks -- decides for each moment of one week, so the picture
cannot disagree with what callers get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone as dj_timezone

from pbx.actions.schedules import (
    do_add_schedule_event,
    do_create_schedule,
    do_delete_schedule,
    do_delete_schedule_event,
    do_reorder_schedule_events,
    do_update_schedule,
    do_update_schedule_event,
)
from pbx.destinations import describe
from pbx.filtersets import ScheduleFilterSet
from pbx.models import EventRepeat, Schedule, ScheduleAction, ScheduleEvent
from pbx.portal.forms.schedules import ScheduleEventForm, ScheduleForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from pbx.schedules import WEEKDAY_NAMES, describe_event, evaluate, to_instant
from switchboard.views import Column, show_action_errors


class _SchedulePages:
    model = Schedule
    verbose_name = "schedule"
    verbose_name_plural = "schedules"
    list_url_name = "portal:schedule-list"
    create_url_name = "portal:schedule-create"
    edit_url_name = "portal:schedule-edit"
    delete_url_name = "portal:schedule-delete"


def _events(schedule: Schedule) -> str:
    return "; ".join(f"{event.name}: {describe_event(event)}" for event in schedule.events.all()) or "—"


class ScheduleListView(_SchedulePages, PortalListView):
    filterset_class = ScheduleFilterSet
    search_placeholder = "Name"
    columns = (
        Column("name", "Name", link=True),
        Column("open_destination", "While open", render=lambda s: describe(s.open_destination)),
        Column("closed_destination", "While closed", render=lambda s: describe(s.closed_destination)),
        Column("events", "Events", render=_events),
    )

    def get_queryset(self) -> models.QuerySet:
        return Schedule.objects.prefetch_related("events").order_by("name")


class ScheduleEditView(_SchedulePages, PortalEditView):
    form_class = ScheduleForm
    template_name = "portal/schedule_edit.html"

    def create(self, form: forms.Form) -> Schedule:
        return do_create_schedule(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: Schedule, form: forms.Form) -> Schedule:
        return do_update_schedule(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: Schedule | None) -> dict[str, Any]:
        if obj is None:
            return {}
        return {"events": [(event, describe_event(event), _event_goes(obj, event))
                           for event in obj.events.all()]}


def _event_goes(schedule: Schedule, event: ScheduleEvent) -> str:
    """What an event does, as a person reads it: "Open → Ring group 2000 Sales"."""
    if event.action == ScheduleAction.OPEN:
        where = schedule.open_destination
    elif event.action == ScheduleAction.CLOSED:
        where = schedule.closed_destination
    else:
        where = event.destination
    return f"{ScheduleAction(event.action).label} → {describe(where)}"


class ScheduleDeleteView(_SchedulePages, PortalDeleteView):
    def delete(self, obj: Schedule) -> None:
        do_delete_schedule(self.identity.account, obj, **self.writer)


# --- events -----------------------------------------------------------------------------


class _EventPages:
    """An event's pages belong to its schedule: "back" and "done" lead to the schedule."""

    model = ScheduleEvent
    verbose_name = "event"
    verbose_name_plural = "events"
    list_url_name = "portal:schedule-edit"
    edit_url_name = "portal:schedule-event-edit"
    delete_url_name = "portal:schedule-event-delete"
    schedule: Schedule | None = None

    def get_object(self, pk: Any) -> ScheduleEvent:
        event = get_object_or_404(ScheduleEvent.objects.select_related("schedule"), pk=pk)
        self.schedule = event.schedule
        return event

    def url(self, name: str | None, obj: models.Model | None = None) -> str | None:
        if name == self.list_url_name:
            # Before any object is read (the context of a refusal) there is no schedule yet.
            return reverse(name, kwargs={"pk": self.schedule.pk}) if self.schedule else None
        return super().url(name, obj)

    def context(self, **extra: Any) -> dict[str, Any]:
        context = super().context(**extra)
        if self.schedule is not None:
            context["verbose_name_plural"] = f"schedule {self.schedule}"
        return context


class ScheduleEventEditView(_EventPages, PortalEditView):
    """An event's page (``pk`` is the event); adding one is :class:`ScheduleEventCreateView`."""

    form_class = ScheduleEventForm

    def update(self, obj: ScheduleEvent, form: forms.Form) -> ScheduleEvent:
        return do_update_schedule_event(self.identity.account, obj, **self.writer,
                                        **self.changed_values(form))

    def success_url(self, obj: ScheduleEvent) -> str:
        return reverse("portal:schedule-edit", kwargs={"pk": obj.schedule_id})


class ScheduleEventCreateView(ScheduleEventEditView):
    """A new event of the schedule ``pk``, put last (the order is changed on the schedule)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        self.schedule = get_object_or_404(Schedule, pk=pk)
        self.authorize(self.identity)
        return self.respond(None, self.build_form(None))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        self.schedule = get_object_or_404(Schedule, pk=pk)
        self.authorize(self.identity)
        form = self.build_form(None, request.POST)
        if form.is_valid():
            fields = {name: value for name, value in form.cleaned_data.items() if name != "name"}
            try:
                event = do_add_schedule_event(self.identity.account, self.schedule,
                                              name=form.cleaned_data["name"], **self.writer, **fields)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                return self.saved(event, created=True)
        return self.respond(None, form, status=400)


class ScheduleEventDeleteView(_EventPages, PortalDeleteView):
    def delete(self, obj: ScheduleEvent) -> None:
        do_delete_schedule_event(self.identity.account, obj, **self.writer)


class ScheduleEventOrderView(_SchedulePages, PortalPage):
    """POST: move one event up or down (the first that matches decides), written as the
    schedule's whole new order by ``do_reorder_schedule_events``."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = self.get_object(pk)
        self.authorize(self.identity)
        ids = list(schedule.events.values_list("pk", flat=True))
        operation, position = request.POST.get("operation", ""), request.POST.get("position", "")
        if operation not in ("up", "down") or not position.isdigit() or not 0 <= int(position) < len(ids):
            messages.error(request, "That event is no longer in the list; reload the page.")
            return redirect(self.url(self.edit_url_name, schedule))
        index = int(position)
        other = index - 1 if operation == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
        try:
            do_reorder_schedule_events(self.identity.account, schedule, ids, **self.writer)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Events of schedule {schedule} reordered.")
        return redirect(self.url(self.edit_url_name, schedule))


# --- the week view --------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A stretch of one day with one decision, placed as a share of the day's length
    (a daylight-saving day has 23 or 25 hours)."""

    start: str  # wall clock, "08:30"
    end: str  # "17:00", or "24:00" at the end of the day
    top: float  # percent of the day
    height: float
    action: str  # a ScheduleAction value
    goes: str  # "Ring group 2000 Sales"
    reason: str  # the event's name, or "default"


@dataclass(frozen=True)
class Day:
    day: date
    name: str
    spans: list[Span]


def _wall(instant: datetime, tz: ZoneInfo, day_end: datetime) -> str:
    return "24:00" if instant >= day_end else instant.astimezone(tz).strftime("%H:%M")


def week(schedule: Schedule, monday: date, default_timezone: str) -> list[Day]:
    """What ``evaluate`` decides from Monday 00:00 to Sunday 24:00 (the schedule's wall
    clock), as spans per day: each decision's ``valid_until`` is where the next begins."""
    tz = ZoneInfo(schedule.timezone or default_timezone)
    events = list(schedule.events.all())
    labels: dict[str, str] = {}
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        start = to_instant(datetime.combine(day, time()), tz)
        end = to_instant(datetime.combine(day + timedelta(days=1), time()), tz)
        length = (end - start).total_seconds()
        raw: list[tuple[datetime, datetime, str, str, str]] = []
        at = start
        while at < end:
            decision = evaluate(schedule, at, default_timezone=default_timezone, events=events)
            # valid_until is after ``at`` by construction; a minute keeps this loop finite
            # should a future change of evaluate break that.
            until = min(max(decision.valid_until, at + timedelta(minutes=1)), end)
            reason = decision.event.name if decision.event is not None else "default"
            if decision.destination not in labels:
                labels[decision.destination] = describe(decision.destination)
            what = (decision.action, labels[decision.destination], reason)
            if raw and raw[-1][2:] == what:
                raw[-1] = (raw[-1][0], until, *what)  # the same decision going on
            else:
                raw.append((at, until, *what))
            at = until
        spans = [Span(_wall(first, tz, end), _wall(last, tz, end),
                      round((first - start).total_seconds() / length * 100, 3),
                      round((last - first).total_seconds() / length * 100, 3), action, goes, reason)
                 for first, last, action, goes, reason in raw]
        days.append(Day(day, WEEKDAY_NAMES[offset], spans))
    return days


class ScheduleWeekView(_SchedulePages, PortalPage):
    """Read-only for every role: a picture of the schedule, one week at a time."""

    template_name = "portal/schedule_week.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        schedule = get_object_or_404(Schedule.objects.prefetch_related("events"), pk=pk)
        default_timezone = self.identity.account.timezone
        try:
            tz = ZoneInfo(schedule.timezone or default_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            tz, default_timezone = ZoneInfo("UTC"), "UTC"
        try:
            shown = date.fromisoformat(request.GET.get("week", ""))
        except ValueError:
            shown = dj_timezone.now().astimezone(tz).date()
        monday = shown - timedelta(days=shown.weekday())
        holidays = [(event, describe_event(event), _event_goes(schedule, event))
                    for event in schedule.events.all() if event.repeat != EventRepeat.WEEKLY]
        return render(request, self.template_name, self.context(
            object=schedule, days=week(schedule, monday, default_timezone), monday=monday,
            sunday=monday + timedelta(days=6), timezone=str(tz),
            previous=(monday - timedelta(days=7)).isoformat(), next=(monday + timedelta(days=7)).isoformat(),
            hours=[f"{hour:02d}:00" for hour in range(24)], holidays=holidays))
