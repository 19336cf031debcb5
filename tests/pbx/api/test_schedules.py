"""Schedules through the API (pbx/api/views/schedules.py)."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from pbx.actions import do_add_schedule_event, do_create_schedule
from pbx.models import Schedule, ScheduleEvent
from tenants.models import Account
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestSchedulesApi(ObjectApiTests):
    basename = "schedule"
    extra_routes = ("schedule-reorder-events",)
    path = "schedules"
    model = Schedule
    audit_name = "schedule"
    create_data = {"name": "Office hours", "open_destination": "hangup", "timezone": "America/Toronto"}
    update_data = {"name": "Shop hours", "default_action": "open"}
    invalid_data = {"timezone": "Mars/Olympus"}
    invalid_field = "timezone"
    list_queries = 10

    def make(self, account: Account, index: int) -> Schedule:
        return do_create_schedule(account, name=f"Schedule {index}", open_destination="hangup")

    def test_events_are_shown_in_order(self, tree: Tree):
        schedule = self.make(tree.c1, 1)
        do_add_schedule_event(tree.c1, schedule, name="Weekdays", weekdays=[1, 2, 3, 4, 5],
                              start_time="09:00", end_time="17:00")
        do_add_schedule_event(tree.c1, schedule, name="Christmas", repeat="yearly", start_date="2026-12-25",
                              all_day=True, action="closed", position=0)
        shown = body(Api(token=key_for(tree.user("c1_admin"))).send(
            "get", accounts_url(tree.c1, "schedules", schedule.pk)))
        assert [(e["name"], e["position"]) for e in shown["events"]] == [("Christmas", 0), ("Weekdays", 1)]
        assert shown["events"][1]["weekdays"] == [1, 2, 3, 4, 5]

    def test_events_are_reordered(self, tree: Tree):
        schedule = self.make(tree.c1, 1)
        first = do_add_schedule_event(tree.c1, schedule, name="A", weekdays=[1], all_day=True)
        second = do_add_schedule_event(tree.c1, schedule, name="B", weekdays=[2], all_day=True)
        api = Api(token=key_for(tree.user("c1_admin")))
        url = accounts_url(tree.c1, "schedules", schedule.pk, "reorder-events")
        reordered = api.send("post", url, {"events": [second.pk, first.pk]})
        assert reordered.status_code == 200, body(reordered)
        assert [e["name"] for e in body(reordered)["events"]] == ["B", "A"]
        incomplete = api.send("post", url, {"events": [second.pk]})
        assert incomplete.status_code == 400 and "events" in body(incomplete)
        assert Api(token=key_for(tree.user("r1_readonly"))).send(
            "post", url, {"events": [first.pk, second.pk]}).status_code == 403
        assert Api(token=key_for(tree.user("c2_admin"))).send(
            "post", url, {"events": [first.pk, second.pk]}).status_code == 404
        with schema_context(tree.c1.schema_name):
            names = ScheduleEvent.objects.order_by("position").values_list("name", flat=True)
            assert list(names) == ["B", "A"]


class TestScheduleEventsApi(ObjectApiTests):
    basename = "schedule-event"
    path = "schedule-events"
    model = ScheduleEvent
    audit_name = "schedule.event"
    create_data = {"name": "Weekdays", "weekdays": [1, 2, 3, 4, 5], "start_time": "09:00:00",
                   "end_time": "17:00:00"}
    update_data = {"name": "Week", "end_time": "18:00:00"}
    invalid_data = {"weekdays": [8]}
    invalid_field = "weekdays"
    list_queries = 9

    def make(self, account: Account, index: int) -> ScheduleEvent:
        return do_add_schedule_event(account, self._schedule(account), name=f"Event {index}",
                                     weekdays=[index % 7 + 1], all_day=True)

    def _schedule(self, account: Account) -> Schedule:
        schedules = self.__dict__.setdefault("_schedules", {})
        if account.pk not in schedules:
            schedules[account.pk] = do_create_schedule(account, name="Hours", open_destination="hangup")
        return schedules[account.pk]

    def payload(self, account: Account) -> dict[str, Any]:
        return {**self.create_data, "schedule": self._schedule(account).pk}

    def test_events_are_searched_by_name(self, tree: Tree):
        for index in (1, 2):
            self.make(tree.c1, index)
        api = Api(token=key_for(tree.user("c1_admin")))
        found = body(api.send("get", accounts_url(tree.c1, "schedule-events") + "?q=nt%202"))["results"]
        assert [event["name"] for event in found] == ["Event 2"]

    def test_an_event_with_a_loop_or_without_its_times_is_a_field_error(self, tree: Tree):
        schedule = self._schedule(tree.c1)
        api = Api(token=key_for(tree.user("c1_admin")))
        url = accounts_url(tree.c1, "schedule-events")
        no_times = api.send("post", url, {"schedule": schedule.pk, "name": "X", "weekdays": [1]})
        assert no_times.status_code == 400 and {"start_time", "end_time"} <= set(body(no_times))
        to_itself = api.send("post", url, {"schedule": schedule.pk, "name": "Y", "weekdays": [1],
                                           "all_day": True, "action": "forward",
                                           "destination": f"schedule:{schedule.pk}"})
        assert to_itself.status_code == 400 and "destination" in body(to_itself)
        with schema_context(tree.c1.schema_name):
            assert not ScheduleEvent.objects.exists()
