"""Schedules and their events, written through the actions: validation that names the
field, routes checked and never looping, deleting refused while used, and one tenant
never reaching another's schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from pbx.actions import (
    do_add_schedule_event,
    do_create_ring_group,
    do_create_schedule,
    do_delete_ring_group,
    do_delete_schedule,
    do_delete_schedule_event,
    do_reorder_schedule_events,
    do_update_ring_group,
    do_update_schedule,
    do_update_schedule_event,
)
from pbx.models import Prompt, Schedule, ScheduleEvent
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from pbx.schedules import evaluate
from pbx.signals import tenant_config_changed
from tenants.scoping import NotInSubtree
from tests.pbx.routing_helpers import exists, extension, last_event, ref, refused, reload

WEEKDAYS = dict(repeat="weekly", weekdays=[1, 2, 3, 4, 5], start_time=time(8, 30), end_time=time(12, 30))


def office(account, name="Office", **fields):
    fields.setdefault("open_destination", "hangup")
    return do_create_schedule(account, name=name, **fields)


def events_of(account, schedule) -> list[str]:
    with schema_context(account.schema_name):
        return list(ScheduleEvent.objects.filter(schedule_id=schedule.pk)
                    .order_by("position", "id").values_list("name", flat=True))


def decide(account, schedule, at: datetime):
    with schema_context(account.schema_name):
        loaded = Schedule.objects.prefetch_related("events").get(pk=schedule.pk)
        return evaluate(loaded, at, default_timezone=account.timezone)


# --- writing a schedule --------------------------------------------------------------------


def test_create_a_schedule_with_office_hours(tree):
    alice = extension(tree.c1, "1001")
    seen = []

    def receiver(sender, account, **kw):
        seen.append(account.pk)

    tenant_config_changed.connect(receiver)
    try:
        sched = do_create_schedule(tree.c1, name="Main number", timezone="Europe/Brussels",
                                   open_destination=ref(alice), closed_destination="voicemail:" +
                                   str(alice.voicemail_box.pk), actor=tree.user("c1_admin"))
        am = do_add_schedule_event(tree.c1, sched, name="am", **WEEKDAYS)
        pm = do_add_schedule_event(tree.c1, sched, name="pm", repeat="weekly", weekdays=[5, 1, 2, 3, 4],
                                   start_time="13:30", end_time="18:00")
        new_year = do_add_schedule_event(tree.c1, sched, name="1 jan", position=0, repeat="yearly",
                                         start_date=date(2021, 1, 1), all_day=True, action="closed")
    finally:
        tenant_config_changed.disconnect(receiver)
    assert seen == [tree.c1.pk] * 4
    # Added at the top: matched before the weekly hours; strings are read as times.
    assert events_of(tree.c1, sched) == ["1 jan", "am", "pm"]
    assert reload(tree.c1, pm).weekdays == [1, 2, 3, 4, 5]
    assert reload(tree.c1, pm).start_time == time(13, 30)
    assert reload(tree.c1, new_year).end_date == date(2021, 1, 1)  # defaults to the first day
    create = last_event(tree.c1, "schedule.create")
    assert (create.actor.username, create.details) == ("c1_admin", {"name": "Main number"})
    assert last_event(tree.c1, "schedule.event.create").details == {
        "schedule": "Main number", "name": "1 jan", "repeat": "yearly", "does": "closed"}
    assert decide(tree.c1, sched, datetime(2025, 6, 11, 8, 0, tzinfo=UTC)).event == am  # 10:00 CEST
    closed = decide(tree.c1, sched, datetime(2025, 1, 1, 9, 0, tzinfo=UTC))
    assert (closed.event, closed.destination) == (new_year, f"voicemail:{alice.voicemail_box.pk}")


def test_update_and_delete_an_event(tree):
    sched = office(tree.c1)
    am = do_add_schedule_event(tree.c1, sched, name="am", **WEEKDAYS)
    do_update_schedule_event(tree.c1, am, name="Mornings", end_time=time(12))
    assert reload(tree.c1, am).end_time == time(12)
    assert last_event(tree.c1, "schedule.event.update").details == {
        "schedule": "Office", "name": "Mornings", "fields": ["end_time", "name"]}
    do_delete_schedule_event(tree.c1, am)
    assert not exists(tree.c1, am)
    assert last_event(tree.c1, "schedule.event.delete").details == {"schedule": "Office", "name": "Mornings"}


def test_reorder_changes_which_event_wins(tree):
    sched = office(tree.c1, closed_destination="hangup")
    hours = do_add_schedule_event(tree.c1, sched, name="Hours", repeat="weekly", weekdays=[3],
                                  all_day=True)
    meeting = do_add_schedule_event(tree.c1, sched, name="Meeting", repeat="weekly", weekdays=[3],
                                    start_time=time(12), end_time=time(13), action="closed")
    noon = datetime(2025, 6, 11, 12, 30, tzinfo=UTC)  # the account's timezone is UTC
    assert decide(tree.c1, sched, noon).event == hours
    do_reorder_schedule_events(tree.c1, sched, [meeting.pk, hours.pk])
    assert events_of(tree.c1, sched) == ["Meeting", "Hours"]
    assert decide(tree.c1, sched, noon).event == meeting
    assert last_event(tree.c1, "schedule.event.reorder").details == {
        "schedule": "Office", "events": ["Meeting", "Hours"]}
    do_delete_schedule_event(tree.c1, meeting)
    assert reload(tree.c1, hours).position == 0  # positions stay 0..n-1


@pytest.mark.parametrize("ids", ["none", "first only", "twice", "other schedule"])
def test_reorder_must_name_exactly_the_schedules_events(tree, ids):
    sched, other = office(tree.c1), office(tree.c1, name="Other")
    first = do_add_schedule_event(tree.c1, sched, name="First", **WEEKDAYS)
    second = do_add_schedule_event(tree.c1, sched, name="Second", **WEEKDAYS)
    stranger = do_add_schedule_event(tree.c1, other, name="Stranger", **WEEKDAYS)
    ids = {"none": [], "first only": [first.pk], "twice": [second.pk, first.pk, first.pk],
           "other schedule": [second.pk, stranger.pk]}[ids]
    with refused("events") as error:
        do_reorder_schedule_events(tree.c1, sched, ids)
    assert error.messages == ["List every event of this schedule exactly once."]
    assert events_of(tree.c1, sched) == ["First", "Second"]
    assert events_of(tree.c1, other) == ["Stranger"]


def test_an_open_or_closed_event_keeps_no_destination_and_dated_events_no_weekdays(tree):
    sched = office(tree.c1)
    held = do_add_schedule_event(tree.c1, sched, name="Holiday", repeat="once", weekdays=[1],
                                 start_date=date(2025, 12, 25), action="closed",
                                 destination="external:+3227811501")
    held = reload(tree.c1, held)
    assert (held.destination, held.weekdays, held.end_date) == ("", [], date(2025, 12, 25))
    do_update_schedule(tree.c1, sched, default_action="closed", default_destination="hangup")
    assert reload(tree.c1, sched).default_destination == ""


# --- validation ------------------------------------------------------------------------------

NO_TIME = "Give the time, or choose All day."


@pytest.mark.parametrize(("fields", "field", "message"), [
    (dict(repeat="weekly", weekdays=[], all_day=True), "weekdays", "Choose at least one day of the week."),
    (dict(repeat="weekly", weekdays=[8], all_day=True), "weekdays", None),
    (dict(repeat="weekly", weekdays=["Monday"], all_day=True), "weekdays",
     "Days of the week are 1 (Monday) to 7 (Sunday)."),
    (dict(repeat="weekly", weekdays=[1], start_time=time(8)), "end_time", NO_TIME),
    (dict(repeat="weekly", weekdays=[1], end_time=time(8)), "start_time", NO_TIME),
    (dict(repeat="weekly", weekdays=[1], start_time="8h", end_time=time(9)), "start_time", None),
    (dict(repeat="once", start_time=time(8)), "start_date", "Give the first day."),
    (dict(repeat="yearly"), "start_date", "Give the first day."),
    (dict(repeat="once", start_date=date(2025, 5, 2), end_date=date(2025, 5, 1)), "end_date",
     "The last day cannot be before the first."),
    (dict(repeat="once", start_date=date(2025, 5, 1), action="forward"), "destination",
     "Choose where calls go."),
    (dict(repeat="once", start_date=date(2025, 5, 1), action="forward", destination="check_voicemail"),
     "destination", None),
    (dict(repeat="once", start_date=date(2025, 5, 1), action="forward", destination="extension:999"),
     "destination", "That extension no longer exists."),
    (dict(repeat="once", start_date=date(2025, 5, 1), action="sometimes"), "action", None),
    (dict(repeat="once", start_date=date(2025, 5, 1), prompt=999), "prompt", "That prompt does not exist."),
    (dict(repeat="once", start_date=date(2025, 5, 1), colour="red"), "colour",
     "This field cannot be set here."),
])
def test_event_errors_name_the_field(tree, fields, field, message):
    sched = office(tree.c1)
    with refused(field) as error:
        do_add_schedule_event(tree.c1, sched, name="Event", **fields)
    if message is not None:
        assert error.messages == [message]
    assert events_of(tree.c1, sched) == []


def test_a_yearly_range_ending_before_it_starts_crosses_new_year(tree):
    sched = office(tree.c1, closed_destination="hangup")
    holidays = do_add_schedule_event(tree.c1, sched, name="Holidays", repeat="yearly",
                                     start_date=date(2020, 12, 24), end_date=date(2020, 1, 2),
                                     action="closed")
    assert decide(tree.c1, sched, datetime(2026, 1, 1, 10, tzinfo=UTC)).event == holidays
    assert decide(tree.c1, sched, datetime(2026, 6, 1, 10, tzinfo=UTC)).event is None


@pytest.mark.parametrize(("fields", "field", "message"), [
    (dict(timezone="Mars/Olympus_Mons"), "timezone", None),
    (dict(open_destination="check_voicemail"), "open_destination", None),
    (dict(closed_destination="ring_group:999"), "closed_destination", "That ring group no longer exists."),
    (dict(closed_destination="nowhere"), "closed_destination", "Choose where calls go."),
    (dict(default_action="forward"), "default_destination", "Choose where calls go by default."),
    (dict(default_action="forward", default_destination="external:12"), "default_destination", None),
    (dict(default_prompt=999), "default_prompt", "That prompt does not exist."),
    (dict(number="2000"), "number", "This field cannot be set here."),
])
def test_schedule_errors_name_the_field(tree, fields, field, message):
    with refused(field) as error:
        do_create_schedule(tree.c1, name="Office", **fields)
    if message is not None:
        assert error.messages == [message]
    with schema_context(tree.c1.schema_name):
        assert not Schedule.objects.exists()


def test_check_voicemail_is_refused_but_every_other_kind_allowed(tree):
    with refused("open_destination") as error:
        do_create_schedule(tree.c1, name="Office", open_destination="check_voicemail")
    assert "check voicemail" not in error.messages[0].lower()
    assert "directory" in error.messages[0].lower()
    sched = do_create_schedule(tree.c1, name="Office", open_destination="directory",
                               closed_destination="conference_hub", default_action="forward",
                               default_destination="hangup")
    assert reload(tree.c1, sched).default_destination == "hangup"


def test_a_schedule_name_is_unique_and_its_timezone_checked_on_update(tree):
    sched = office(tree.c1)
    office(tree.c1, name="Other")
    with refused("name"):
        do_update_schedule(tree.c1, sched, name="Other")
    with refused("timezone"):
        do_update_schedule(tree.c1, sched, timezone="Europe/Atlantis")
    do_update_schedule(tree.c1, sched, timezone="America/New_York")
    assert reload(tree.c1, sched).timezone == "America/New_York"
    assert last_event(tree.c1, "schedule.update").details == {"name": "Office", "fields": ["timezone"]}


def test_prompts_of_the_schema_are_used(tree):
    with schema_context(tree.c1.schema_name):
        greeting = Prompt.objects.create(name="Closed greeting", status="ready")
    sched = office(tree.c1, default_prompt=greeting.pk)
    event = do_add_schedule_event(tree.c1, sched, name="Holiday", repeat="once",
                                  start_date=date(2025, 12, 25), prompt=greeting, action="closed")
    assert decide(tree.c1, sched, datetime(2025, 12, 25, 10, tzinfo=UTC)).prompt == greeting
    assert decide(tree.c1, sched, datetime(2025, 12, 26, 10, tzinfo=UTC)).prompt == greeting
    with schema_context(tree.c1.schema_name):
        greeting.status = "failed"
        greeting.save()
    with refused("prompt"):
        do_update_schedule_event(tree.c1, event, prompt=greeting)


# --- routes: loops and deleting --------------------------------------------------------------


def test_a_schedule_cannot_send_calls_to_itself(tree):
    sched = office(tree.c1)
    with refused("closed_destination") as error:
        do_update_schedule(tree.c1, sched, closed_destination=ref(sched))
    assert error.messages == ["A schedule cannot send calls to itself."]
    with refused("destination"):
        do_add_schedule_event(tree.c1, sched, name="Back", repeat="once", start_date=date(2025, 1, 1),
                              action="forward", destination=ref(sched))


def test_a_loop_through_a_ring_group_is_refused_on_either_side(tree):
    sched = office(tree.c1)
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(sched))
    with refused("closed_destination") as error:
        do_update_schedule(tree.c1, sched, closed_destination=ref(group))
    assert error.messages == ["This would send calls round in a loop: Schedule Office → "
                              "Ring group 2000 Sales → Schedule Office."]
    assert reload(tree.c1, sched).closed_destination == ""
    with refused("destination") as error:
        do_add_schedule_event(tree.c1, sched, name="Lunch", repeat="weekly", weekdays=[1],
                              start_time=time(12), end_time=time(13), action="forward",
                              destination=ref(group))
    assert "loop" in error.messages[0]
    assert events_of(tree.c1, sched) == []
    # The event may forward there once the group no longer falls back to the schedule,
    # and then the group may not fall back to it again.
    do_update_ring_group(tree.c1, group, fallback="")
    lunch = do_add_schedule_event(tree.c1, sched, name="Lunch", repeat="weekly", weekdays=[1],
                                  start_time=time(12), end_time=time(13), action="forward",
                                  destination=ref(group))
    with refused("fallback"):
        do_update_ring_group(tree.c1, group, fallback=ref(sched))
    # Changing the forward into an Open event drops the route: no loop any more.
    do_update_schedule_event(tree.c1, lunch, action="open")
    do_update_ring_group(tree.c1, group, fallback=ref(sched))


def test_deleting_a_schedule_is_refused_while_a_number_or_a_fallback_uses_it(tree):
    sched = office(tree.c1)
    do_add_schedule_event(tree.c1, sched, name="am", **WEEKDAYS)
    group = do_create_ring_group(tree.c1, number="2000", name="Sales", fallback=ref(sched))
    (number,) = do_import_numbers(tree.user("master_admin"), ["+3227811501"])
    do_assign_number(tree.user("master_admin"), number, tree.r1)
    number = do_assign_number(tree.user("r1_admin"), number, tree.c1)
    number = do_route_number(tree.c1, number, route=ref(sched))
    with refused() as error:
        do_delete_schedule(tree.c1, sched)
    assert error.messages == ["Schedule Office is still used by: Ring group 2000 Sales (fallback); "
                              "Phone number +3227811501. Change those routes first."]
    do_route_number(tree.c1, number, route="")
    do_delete_ring_group(tree.c1, group)
    do_delete_schedule(tree.c1, sched, actor=tree.user("c1_admin"))
    assert not exists(tree.c1, sched)
    with schema_context(tree.c1.schema_name):
        assert not ScheduleEvent.objects.exists()  # its events went with it
    deleted = last_event(tree.c1, "schedule.delete")
    assert (deleted.actor.username, deleted.details) == ("c1_admin", {"name": "Office"})


def test_deleting_a_target_is_refused_while_a_forward_event_uses_it(tree):
    from pbx.actions import do_delete_extension

    alice = extension(tree.c1, "1001")
    sched = office(tree.c1)
    do_add_schedule_event(tree.c1, sched, name="Lunch", repeat="weekly", weekdays=[1],
                          start_time=time(12), end_time=time(13), action="forward", destination=ref(alice))
    with refused() as error:
        do_delete_extension(tree.c1, alice)
    assert "Schedule Office (destination)" in error.messages[0]


# --- who may write, and tenant isolation ---------------------------------------------------


def test_people_act_only_on_their_own_account_and_as_admins(tree):
    sched = office(tree.c1)
    with pytest.raises(NotInSubtree):
        do_update_schedule(tree.c1, sched, name="Hijacked", actor=tree.user("c2_admin"))
    with pytest.raises(PermissionDenied):
        do_update_schedule(tree.c1, sched, name="Renamed", actor=tree.user("r1_readonly"))
    assert reload(tree.c1, sched).name == "Office"
    # A provider admin above the account (masquerading) may.
    do_update_schedule(tree.c1, sched, name="Renamed", actor=tree.user("r1_admin"))
    assert reload(tree.c1, sched).name == "Renamed"


def _spare_schedules(account, count: int) -> None:
    """Use up primary keys, so the other tenant's pks name nothing here."""
    for n in range(count):
        office(account, name=f"Spare {n}")


def test_another_tenants_schedule_is_out_of_reach(tree):
    _spare_schedules(tree.c2, 3)
    theirs = office(tree.c2, name="Beta hours")
    do_add_schedule_event(tree.c2, theirs, name="Beta am", **WEEKDAYS)
    do_add_schedule_event(tree.c2, theirs, name="Beta pm", **WEEKDAYS)
    their_event = do_add_schedule_event(tree.c2, theirs, name="Beta eve", **WEEKDAYS)
    # Tenant C1 handed C2's objects: the ids are read in C1's schema, where they name
    # nothing (or C1's own rows), never C2's.
    with pytest.raises(Schedule.DoesNotExist):
        do_update_schedule(tree.c1, theirs, name="Hijacked")
    with pytest.raises(Schedule.DoesNotExist):
        do_delete_schedule(tree.c1, theirs)
    with pytest.raises(Schedule.DoesNotExist):
        do_add_schedule_event(tree.c1, theirs, name="Planted", repeat="weekly", weekdays=[1], all_day=True)
    with pytest.raises(ScheduleEvent.DoesNotExist):
        do_update_schedule_event(tree.c1, their_event, name="Hijacked")
    with pytest.raises(ScheduleEvent.DoesNotExist):
        do_delete_schedule_event(tree.c1, their_event)
    assert reload(tree.c2, theirs).name == "Beta hours"
    assert events_of(tree.c2, theirs) == ["Beta am", "Beta pm", "Beta eve"]
    with schema_context(tree.c1.schema_name):
        assert not Schedule.objects.exists() and not ScheduleEvent.objects.exists()


def test_an_event_of_another_tenant_cannot_be_reordered_into_this_schedule(tree):
    ours = office(tree.c1, name="Acme hours")
    mine = do_add_schedule_event(tree.c1, ours, name="Acme am", **WEEKDAYS)
    theirs = office(tree.c2, name="Beta hours")
    for n in range(3):
        do_add_schedule_event(tree.c2, theirs, name=f"Beta {n}", **WEEKDAYS)
    with schema_context(tree.c2.schema_name):
        their_ids = list(ScheduleEvent.objects.filter(schedule_id=theirs.pk).values_list("pk", flat=True))
    assert their_ids[-1] != mine.pk
    with refused("events"):
        do_reorder_schedule_events(tree.c1, ours, [their_ids[-1], mine.pk])
    with refused("events"):
        do_reorder_schedule_events(tree.c1, ours, [their_ids[-1]])
    assert events_of(tree.c1, ours) == ["Acme am"]
    assert events_of(tree.c2, theirs) == ["Beta 0", "Beta 1", "Beta 2"]


def test_a_route_to_another_tenants_object_is_refused(tree):
    extension(tree.c1, "1001")
    for n in range(4):
        bob = extension(tree.c2, str(1001 + n))
    with schema_context(tree.c1.schema_name):
        from pbx.models import Extension

        assert not Extension.objects.filter(pk=bob.pk).exists()
    with refused("open_destination") as error:
        do_create_schedule(tree.c1, name="Office", open_destination=ref(bob))
    assert error.messages == ["That extension no longer exists."]
