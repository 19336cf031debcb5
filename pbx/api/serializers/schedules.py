from __future__ import annotations

from rest_framework import serializers

from pbx.actions.schedules import EVENT_FIELDS, SCHEDULE_FIELDS
from pbx.models import Schedule, ScheduleEvent
from switchboard.api.serializers import ActionSerializer


class ScheduleEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleEvent
        fields = ["id", "position", "name", *EVENT_FIELDS]


class ScheduleSerializer(ActionSerializer):
    events = ScheduleEventSerializer(many=True, read_only=True,
                                     help_text="Matched in this order; the first that matches decides.")

    class Meta:
        model = Schedule
        fields = ["id", "name", *SCHEDULE_FIELDS, "events", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
