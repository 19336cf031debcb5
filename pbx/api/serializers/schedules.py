from __future__ import annotations

from rest_framework import serializers

from pbx.actions.schedules import EVENT_FIELDS, SCHEDULE_FIELDS
from pbx.models import Schedule, ScheduleEvent
from switchboard.api.serializers import ActionSerializer


class ScheduleEventSerializer(ActionSerializer):
    """An event of a schedule. Its place is changed with …/schedules/{id}/reorder-events/."""

    class Meta:
        model = ScheduleEvent
        fields = ["id", "schedule", "position", "name", *EVENT_FIELDS]
        read_only_fields = ["schedule", "position"]


class NewScheduleEventSerializer(ScheduleEventSerializer):
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                        help_text="0 is matched first; empty puts it last.")

    class Meta(ScheduleEventSerializer.Meta):
        read_only_fields = []
        extra_kwargs = {"schedule": {"help_text": "The schedule's id."}}


class EventOrderSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500,
                                   help_text="Every event of the schedule, by id, first matched first.")


class ScheduleSerializer(ActionSerializer):
    events = ScheduleEventSerializer(many=True, read_only=True,
                                     help_text="Matched in this order; the first that matches decides.")

    class Meta:
        model = Schedule
        fields = ["id", "name", *SCHEDULE_FIELDS, "events", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
