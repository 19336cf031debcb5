"""Schedules in the portal: the week view shows what ``evaluate`` decides (event order
matters: a holiday below the opening hours loses), a daylight-saving day is one hour
short, and the event action's errors land on the fields."""

from __future__ import annotations

from datetime import date

from django_tenants.utils import schema_context

from pbx.actions.schedules import do_create_schedule, do_update_schedule_event
from pbx.models import Schedule, ScheduleEvent
from pbx.portal.views.schedules import week
from tests.pbx.portal.conftest import World
from tests.pbx.portal.test_pages import event_data


def spans(world: World, monday: date, day: int) -> list[tuple[str, str, str, str]]:
    with schema_context(world.account.schema_name):
        schedule = Schedule.objects.prefetch_related("events").get(pk=world.schedule.pk)
        shown = week(schedule, monday, "UTC")[day]
    return [(span.start, span.end, span.action, span.reason) for span in shown.spans]


def test_a_weekday_is_closed_open_closed(world: World):
    assert spans(world, date(2026, 1, 5), 0) == [
        ("00:00", "09:00", "closed", "default"),
        ("09:00", "17:00", "open", "Weekdays"),
        ("17:00", "24:00", "closed", "default"),
    ]
    assert spans(world, date(2026, 1, 5), 5) == [("00:00", "24:00", "closed", "default")]


def test_the_first_matching_event_decides_so_a_holiday_goes_above(world: World):
    # New Year 2026 is a Thursday; below "Weekdays" it only decides outside 09-17.
    assert ("09:00", "17:00", "open", "Weekdays") in spans(world, date(2025, 12, 29), 3)
    browser = world.browser("admin")
    response = browser.post(f"/schedules/{world.schedule.pk}/events/order/",
                            {"operation": "up", "position": "1"})
    assert response.status_code == 302
    assert spans(world, date(2025, 12, 29), 3) == [("00:00", "24:00", "closed", "New Year")]
    page = browser.get(f"/schedules/{world.schedule.pk}/week/?week=2026-01-01").content.decode()
    assert "Thu 1 Jan" in page and "(New Year)" in page
    assert "every year 01-01" in page.split('id="holidays-heading"')[-1]  # listed under the holidays
    # A stale position moves nothing.
    browser.post(f"/schedules/{world.schedule.pk}/events/order/", {"operation": "up", "position": "9"})
    with schema_context(world.account.schema_name):
        assert list(world.schedule.events.values_list("name", flat=True)) == ["New Year", "Weekdays"]


def test_the_page_places_blocks_by_their_share_of_the_day(world: World):
    url = f"/schedules/{world.schedule.pk}/week/?week=2026-01-07"
    page = world.browser("read_only").get(url).content.decode()
    assert "Mon 5 Jan" in page and "Sun 11 Jan" in page
    # 09:00-17:00 is 37.5% down and a third of the day long; it rings extension 1001.
    assert 'style="top:37.500%;height:33.333%"' in page
    assert "09:00\N{EN DASH}17:00</strong> Extension 1001 Alice Archer" in page


def test_a_spring_forward_day_has_23_hours(world: World):
    with schema_context(world.account.schema_name):
        schedule = do_create_schedule(world.account, name="Brussels", timezone="Europe/Brussels")
        ScheduleEvent.objects.create(schedule=schedule, name="Night", weekdays=[7], start_time="01:00",
                                     end_time="04:00", action="open")
        schedule = Schedule.objects.prefetch_related("events").get(pk=schedule.pk)
        sunday = week(schedule, date(2026, 3, 23), "UTC")[6]
    # 01:00-04:00 on the day clocks jump from 02:00 to 03:00 lasts two hours of 23.
    assert [(s.start, s.end, s.reason) for s in sunday.spans] == [
        ("00:00", "01:00", "default"), ("01:00", "04:00", "Night"), ("04:00", "24:00", "default")]
    assert sunday.spans[1].height == round(2 / 23 * 100, 3)
    assert round(sum(span.height for span in sunday.spans), 2) == 100


def test_an_event_without_days_is_refused_on_the_field(world: World):
    data = {**event_data("Saturday"), "weekdays": []}
    response = world.browser("admin").post(f"/schedules/{world.schedule.pk}/events/add/", data)
    assert response.status_code == 400
    assert response.context["form"].errors["weekdays"] == ["Choose at least one day of the week."]


def test_a_forward_to_the_schedule_itself_is_refused_on_the_field(world: World):
    data = {**event_data("Loop"), "action": "forward", "destination_kind": "schedule",
            "destination_object": f"schedule:{world.schedule.pk}"}
    response = world.browser("admin").post(f"/schedule-events/{world.event.pk}/", data)
    assert response.status_code == 400
    assert "destination" in response.context["form"].errors
    with schema_context(world.account.schema_name):
        assert ScheduleEvent.objects.get(pk=world.event.pk).action == "open"


def test_an_event_page_leads_back_to_its_schedule(world: World):
    browser = world.browser("admin")
    page = browser.get(f"/schedule-events/{world.event.pk}/").content.decode()
    assert f'href="/schedules/{world.schedule.pk}/">← Schedule Office hours' in page
    assert 'type="time" name="start_time" value="09:00"' in page
    assert 'value="5" id="id_weekdays_4" checked' in page
    assert 'value="6" id="id_weekdays_5" checked' not in page
    response = browser.post(f"/schedule-events/{world.event.pk}/delete/")
    assert response["Location"] == f"/schedules/{world.schedule.pk}/"


def test_an_updated_event_shows_on_the_schedule(world: World):
    do_update_schedule_event(world.account, world.event, start_time="08:30")
    page = world.browser("admin").get(f"/schedules/{world.schedule.pk}/").content.decode()
    assert "Weekdays</a>: every week Mon-Fri 08:30-17:00 · Open → Extension 1001 Alice Archer" in page
