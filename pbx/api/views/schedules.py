"""Schedules (opening hours) and their events (pbx.actions.schedules): the events are shown
with their schedule and written as schedule events; a schedule's order of events is set
with …/reorder-events/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.schedules import (
    do_add_schedule_event,
    do_create_schedule,
    do_delete_schedule,
    do_delete_schedule_event,
    do_reorder_schedule_events,
    do_update_schedule,
    do_update_schedule_event,
)
from pbx.api.serializers.schedules import (
    EventOrderSerializer,
    NewScheduleEventSerializer,
    ScheduleEventSerializer,
    ScheduleSerializer,
)
from pbx.filtersets import ScheduleEventFilterSet, ScheduleFilterSet
from pbx.models import Schedule, ScheduleEvent
from switchboard.api.views import ObjectActions, ObjectViewSet


class ScheduleViewSet(ObjectViewSet):
    queryset = Schedule.objects.prefetch_related("events")
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    writes = ObjectActions(create=do_create_schedule, update=do_update_schedule, delete=do_delete_schedule)

    @extend_schema(summary="Put the schedule's events in this order (the first matched first)",
                   request=EventOrderSerializer, responses=ScheduleSerializer)
    @action(detail=True, methods=["post"], url_path="reorder-events", serializer_class=EventOrderSerializer)
    def reorder_events(self, request: Request, *args, **kwargs) -> Response:
        serializer = EventOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = self.get_object()
        do_reorder_schedule_events(self.account, schedule, serializer.validated_data["events"],
                                   **self.writer())
        return self.represent(schedule)


def _add_event(account, *, schedule: Schedule, actor, ip, **fields) -> ScheduleEvent:
    return do_add_schedule_event(account, schedule, actor=actor, ip=ip, **fields)


class ScheduleEventViewSet(ObjectViewSet):
    queryset = ScheduleEvent.objects.all()
    serializer_class = ScheduleEventSerializer
    create_serializer_class = NewScheduleEventSerializer
    filterset_class = ScheduleEventFilterSet
    ordering_fields = ["schedule", "position", "name"]
    ordering = ["schedule", "position", "id"]
    writes = ObjectActions(create=_add_event, update=do_update_schedule_event,
                           delete=do_delete_schedule_event)
