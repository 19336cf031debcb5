"""Schedules (opening hours; pbx.actions.schedules). Their events are shown with them;
writing events through the API is still to come (docs/api.md)."""

from __future__ import annotations

from pbx.actions.schedules import do_create_schedule, do_delete_schedule, do_update_schedule
from pbx.api.serializers.schedules import ScheduleSerializer
from pbx.filtersets import ScheduleFilterSet
from pbx.models import Schedule
from switchboard.api.views import ObjectActions, ObjectViewSet


class ScheduleViewSet(ObjectViewSet):
    queryset = Schedule.objects.prefetch_related("events")
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    writes = ObjectActions(create=do_create_schedule, update=do_update_schedule, delete=do_delete_schedule)
