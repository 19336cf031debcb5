"""Schedules (seed 004 "Schedules", seed 003 "Time Frames" and "Holidays"): a prioritized
list of events, the first that matches decides; the default applies when none does.
Times are wall-clock times in the schedule's timezone (the account's when empty), so
"08:30" stays 08:30 across daylight-saving changes."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pbx.models.base import Timestamped
from pbx.models.destinations import DestinationField
from pbx.models.media import Prompt
from tenants.validators import validate_printable


class ScheduleAction(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    FORWARD = "forward", "Forward"


class Schedule(Timestamped):
    name = models.CharField(max_length=100, unique=True, validators=[validate_printable])
    timezone = models.CharField(max_length=64, blank=True, help_text="Empty: the account's.")
    open_destination = DestinationField(help_text="Where calls go while open.")
    closed_destination = DestinationField(help_text="Where calls go while closed.")
    default_action = models.CharField(max_length=8, choices=ScheduleAction.choices,
                                      default=ScheduleAction.CLOSED)
    default_destination = DestinationField(help_text="For a default of Forward.")
    default_prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EventRepeat(models.TextChoices):
    WEEKLY = "weekly", "Every week, on the chosen days"
    ONCE = "once", "On these dates"
    YEARLY = "yearly", "Every year, on these dates"


class ScheduleEvent(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="events")
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")
    name = models.CharField(max_length=100, validators=[validate_printable])
    repeat = models.CharField(max_length=8, choices=EventRepeat.choices, default=EventRepeat.WEEKLY)
    # Weekly: ISO weekdays, 1 = Monday … 7 = Sunday.
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(7)]),
        default=list, blank=True,
    )
    # Once / yearly: the first and last day (the year is ignored for yearly).
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    all_day = models.BooleanField(default=False)
    # A range whose end is not after its start spans midnight (22:00-06:00).
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    action = models.CharField(max_length=8, choices=ScheduleAction.choices, default=ScheduleAction.OPEN)
    destination = DestinationField(help_text="For Forward.")
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["schedule", "position", "id"]

    def __str__(self) -> str:
        return self.name
