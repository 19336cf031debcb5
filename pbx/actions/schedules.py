"""Schedules (opening hours) and their prioritized events. Every route a schedule holds
is taken without anyone choosing, so none may lead back to the schedule.

Events live in one schedule: every event lookup here is "this id among this schedule's
events, in this account's schema", so an id from another schedule (or another tenant,
where the same number may name a different row) is refused, never moved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django_tenants.utils import schema_context

from pbx.actions.checks import prompt, refuse_loop, target
from pbx.actions.common import changed, only
from pbx.actions.crud import CrudActions, authorize
from pbx.models import (
    Destination,
    DestinationKind,
    EventRepeat,
    Schedule,
    ScheduleAction,
    ScheduleEvent,
)
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, User
from tenants.validators import validate_timezone

SCHEDULE_FIELDS = ("timezone", "open_destination", "closed_destination", "default_action",
                   "default_destination", "default_prompt")
EVENT_FIELDS = ("repeat", "weekdays", "start_date", "end_date", "all_day", "start_time",
                "end_time", "action", "destination", "prompt")
DESTINATION_FIELDS = ("open_destination", "closed_destination", "default_destination")
# A schedule sends the call on by itself; checking voicemail is something a caller asks for.
SCHEDULE_KINDS = tuple(kind for kind in DestinationKind.values
                       if kind != DestinationKind.CHECK_VOICEMAIL)


def _itself(schedule: Schedule) -> Destination:
    return Destination(DestinationKind.SCHEDULE, str(schedule.pk))


def _refuse_loop(schedule: Schedule, *, first: dict[str, str] | None = None) -> None:
    """Check every automatic route of the saved schedule (the error sits on the field
    listed in ``first`` when it is the way round, else on the schedule's own field)."""
    routes: dict[str, str] = dict(first or {})
    for name in DESTINATION_FIELDS:
        routes.setdefault(name, getattr(schedule, name))
    for event_id, value in schedule.events.exclude(destination="").values_list("id", "destination"):
        routes.setdefault(f"event {event_id}", value)
    try:
        refuse_loop(_itself(schedule), routes)
    except ValidationError as exc:
        # An event already saved can only be the way round when it is the one changing.
        messages = [message for messages in exc.message_dict.values() for message in messages]
        field = next(iter(exc.message_dict))
        raise ValidationError({field if not field.startswith("event ") else "destination": messages}
                              ) from exc


# --- schedules -------------------------------------------------------------------------


class _Schedules(CrudActions[Schedule]):
    model = Schedule
    audit_name = "schedule"
    index = IndexScope.NOTHING
    fields = (*SCHEDULE_FIELDS, "name")
    kind = DestinationKind.SCHEDULE
    parts = ((ScheduleEvent, "schedule"),)  # its own events (a forward to itself is refused anyway)
    prompt_fields = ("default_prompt",)

    def apply(self, schedule: Schedule, fields: dict[str, Any]) -> None:
        normal = dict(fields)
        for name in DESTINATION_FIELDS:
            if name in normal:
                normal[name] = normal[name] or ""
        if "timezone" in normal:
            normal["timezone"] = (normal["timezone"] or "").strip()
        super().apply(schedule, normal)

    def prepare(self, account: Account, schedule: Schedule) -> None:
        if schedule.timezone:
            try:
                validate_timezone(schedule.timezone)
            except ValidationError as exc:
                raise ValidationError({"timezone": exc.messages}) from exc
        if schedule.default_action == ScheduleAction.FORWARD:
            if not schedule.default_destination:
                raise ValidationError({"default_destination": ["Choose where calls go by default."]})
        else:
            # Kept only for Forward: a route that is never taken must not block deleting its
            # target or count as a loop.
            schedule.default_destination = ""

    def check(self, account: Account, schedule: Schedule, fields: Mapping[str, Any]) -> None:
        for name in DESTINATION_FIELDS:
            target(name, getattr(schedule, name), allowed=SCHEDULE_KINDS,
                   not_to=self.itself(schedule), what="A schedule")

    def check_loops(self, schedule: Schedule, fields: Mapping[str, Any]) -> None:
        _refuse_loop(schedule, first={name: getattr(schedule, name) for name in DESTINATION_FIELDS
                                      if name in fields})


_schedules = _Schedules()


def do_create_schedule(account: Account, *, name: str, actor: User | None = None,
                       ip: str | None = None, **fields) -> Schedule:
    return _schedules.create(account, name=name, actor=actor, ip=ip, **fields)


def do_update_schedule(account: Account, schedule: Schedule, *, actor: User | None = None,
                       ip: str | None = None, **fields) -> Schedule:
    return _schedules.update(account, schedule, actor=actor, ip=ip, **fields)


def do_delete_schedule(account: Account, schedule: Schedule, *, actor: User | None = None,
                       ip: str | None = None) -> None:
    _schedules.delete(account, schedule, actor=actor, ip=ip)


# --- events ----------------------------------------------------------------------------


def _apply_event(event: ScheduleEvent, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "prompt":
            value = prompt(value, name)
        elif name == "weekdays":
            try:
                value = sorted({int(day) for day in value or []})
            except (TypeError, ValueError) as exc:
                raise ValidationError({"weekdays": ["Days of the week are 1 (Monday) to 7 (Sunday)."]}
                                      ) from exc
        elif name == "destination":
            value = value or ""
        setattr(event, name, value)


def _check_event(schedule: Schedule, event: ScheduleEvent) -> None:
    if event.all_day:
        event.start_time = event.end_time = None
    if event.action != ScheduleAction.FORWARD:
        # Open and Closed use the schedule's own destinations; a route never taken must
        # not block deleting its target or count as a loop.
        event.destination = ""
    if event.repeat != EventRepeat.WEEKLY:
        # Days of the week mean nothing here; keeping them would only mislead a reader.
        event.weekdays = []
        event.end_date = event.end_date or event.start_date
    # Field by field first (it also turns submitted strings into dates and times).
    event.full_clean()
    errors: dict[str, list[str]] = {}
    if event.repeat == EventRepeat.WEEKLY:
        if not event.weekdays:
            errors["weekdays"] = ["Choose at least one day of the week."]
        elif any(not 1 <= day <= 7 for day in event.weekdays):
            errors["weekdays"] = ["Days of the week are 1 (Monday) to 7 (Sunday)."]
        if not event.all_day:
            for name in ("start_time", "end_time"):
                if getattr(event, name) is None:
                    errors[name] = ["Give the time, or choose All day."]
        if event.start_date and event.end_date and event.end_date < event.start_date:
            errors["end_date"] = ["The last day cannot be before the first."]
    elif event.start_date is None:
        errors["start_date"] = ["Give the first day."]
    # For a yearly event an earlier last day means the range crosses New Year.
    elif event.repeat == EventRepeat.ONCE and event.end_date < event.start_date:
        errors["end_date"] = ["The last day cannot be before the first."]
    if event.action == ScheduleAction.FORWARD and not event.destination:
        errors["destination"] = ["Choose where calls go."]
    if errors:
        raise ValidationError(errors)
    target("destination", event.destination, allowed=SCHEDULE_KINDS, not_to=_itself(schedule),
           what="A schedule")


def _renumber(ordered: list[ScheduleEvent]) -> None:
    for position, event in enumerate(ordered):
        if event.position != position:
            event.position = position
            event.save(update_fields=["position"])


@transaction.atomic
def do_add_schedule_event(account: Account, schedule: Schedule, *, name: str,
                          position: int | None = None, actor: User | None = None,
                          ip: str | None = None, **fields) -> ScheduleEvent:
    """Add an event at ``position`` (0 is matched first); None puts it last."""
    authorize(actor, account)
    only(fields, EVENT_FIELDS)
    with schema_context(account.schema_name):
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        event = ScheduleEvent(schedule=schedule, name=name)
        _apply_event(event, fields)
        _check_event(schedule, event)
        others = list(schedule.events.order_by("position", "id"))
        last = schedule.events.aggregate(last=Max("position"))["last"]
        event.position = 0 if last is None else last + 1
        event.save()
        if position is not None:
            others.insert(max(0, min(position, len(others))), event)
            _renumber(others)
        _refuse_loop(schedule, first={"destination": event.destination})
    record(actor, account, "schedule.event.create", ip, schedule=schedule.name, name=name,
           repeat=event.repeat, does=event.action)
    changed(account, index=IndexScope.NOTHING)
    return event


@transaction.atomic
def do_update_schedule_event(account: Account, event: ScheduleEvent, *, actor: User | None = None,
                             ip: str | None = None, **fields) -> ScheduleEvent:
    authorize(actor, account)
    only(fields, (*EVENT_FIELDS, "name"))
    with schema_context(account.schema_name):
        # The schedule first, as adding and reordering lock it: no deadlock between them.
        schedule_id = ScheduleEvent.objects.values_list("schedule_id", flat=True).get(pk=event.pk)
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        event = ScheduleEvent.objects.select_for_update().get(pk=event.pk)
        _apply_event(event, fields)
        _check_event(schedule, event)
        event.save()
        _refuse_loop(schedule, first={"destination": event.destination})
    record(actor, account, "schedule.event.update", ip, schedule=schedule.name, name=event.name,
           fields=sorted(fields))
    changed(account, index=IndexScope.NOTHING)
    return event


@transaction.atomic
def do_delete_schedule_event(account: Account, event: ScheduleEvent, *,
                             actor: User | None = None, ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        # The schedule first, as adding and reordering lock it: no deadlock between them.
        schedule_id = ScheduleEvent.objects.values_list("schedule_id", flat=True).get(pk=event.pk)
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        event = ScheduleEvent.objects.select_for_update().get(pk=event.pk)
        name = event.name
        event.delete()
        _renumber(list(schedule.events.order_by("position", "id")))
    record(actor, account, "schedule.event.delete", ip, schedule=schedule.name, name=name)
    changed(account, index=IndexScope.NOTHING)


@transaction.atomic
def do_reorder_schedule_events(account: Account, schedule: Schedule, event_ids: Iterable[int], *,
                               actor: User | None = None, ip: str | None = None) -> list[ScheduleEvent]:
    """Put the schedule's events in this order (first is matched first). The list must
    name every event of the schedule exactly once."""
    authorize(actor, account)
    with schema_context(account.schema_name):
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        events = {event.pk: event for event in schedule.events.select_for_update()}
        try:
            wanted = [int(pk) for pk in event_ids]
        except (TypeError, ValueError) as exc:
            raise ValidationError({"events": ["Give the events by id."]}) from exc
        if len(set(wanted)) != len(wanted) or set(wanted) != set(events):
            raise ValidationError({"events": ["List every event of this schedule exactly once."]})
        ordered = [events[pk] for pk in wanted]
        _renumber(ordered)
    record(actor, account, "schedule.event.reorder", ip, schedule=schedule.name,
           events=[event.name for event in ordered])
    changed(account, index=IndexScope.NOTHING)
    return ordered
