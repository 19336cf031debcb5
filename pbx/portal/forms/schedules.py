"""Schedules and their events. The form only shapes the input (days of the week as
check boxes, the browser's date and time inputs); what an event may be is the action's
rule (``pbx.actions.schedules``), shown on these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from pbx.actions.schedules import SCHEDULE_KINDS
from pbx.models import Schedule, ScheduleEvent
from pbx.portal.forms.base import PortalForm
from pbx.schedules import WEEKDAY_NAMES

WEEKDAY_CHOICES = [(str(day), name) for day, name in enumerate(WEEKDAY_NAMES, start=1)]


class ScheduleForm(PortalForm):
    class Meta:
        model = Schedule
        fields = ("name", "timezone", "open_destination", "closed_destination", "default_action",
                  "default_destination", "default_prompt")
        destination_kinds = {name: SCHEDULE_KINDS for name in
                             ("open_destination", "closed_destination", "default_destination")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget.attrs["placeholder"] = "Europe/Brussels"
        self.fields["default_action"].help_text = "What applies when no event matches."


class ScheduleEventForm(PortalForm):
    weekdays = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Days of the week", help_text="For an event that repeats every week.")

    class Meta:
        model = ScheduleEvent
        fields = ("name", "repeat", "weekdays", "start_date", "end_date", "all_day", "start_time",
                  "end_time", "action", "destination", "prompt")
        destination_kinds = {"destination": SCHEDULE_KINDS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's own pickers: a phone gets its native date and time wheels.
        for name in ("start_date", "end_date"):
            self.fields[name].widget = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
        for name in ("start_time", "end_time"):
            self.fields[name].widget = forms.TimeInput(format="%H:%M", attrs={"type": "time"})
        self.fields["start_date"].help_text = ("A holiday's first day; for a weekly event, "
                                               "from when it applies (empty: always).")
        self.fields["end_date"].help_text = "The last day (empty: the first day only, or for ever)."
        self.fields["start_time"].help_text = "An end not after the start runs past midnight."
        self.fields["action"].help_text = ("Open and Closed go where the schedule says; Forward "
                                           "goes to this event's own destination.")
