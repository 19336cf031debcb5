"""Schedules through the API (pbx/api/views/schedules.py)."""

from __future__ import annotations

from pbx.actions import do_add_schedule_event, do_create_schedule
from pbx.models import Schedule
from tenants.models import Account
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestSchedulesApi(ObjectApiTests):
    basename = "schedule"
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
