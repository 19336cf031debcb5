"""An extension's follow-me as the admin sets it: the settings, then its steps, each
with its ring time, whether outside numbers must press 1, and the targets rung at once
(each chosen with the destination picker). Without JavaScript the page shows every step
with one free target slot, and one free step: saving adds them, and another free slot
appears. ``steps()`` is the list ``do_set_follow_me`` takes; blank slots are left out."""

from __future__ import annotations

from typing import Any

from django import forms

from pbx.actions.checks import RINGABLE_KINDS, ROUTE_KINDS
from pbx.actions.followme import MAX_STEPS, MAX_TARGETS
from pbx.forms.destinations import DestinationFormField
from pbx.models import FollowMe
from pbx.portal.forms.base import DESTINATION_OPTIONS_URL, PortalForm


class FollowMeForm(PortalForm):
    class Meta:
        model = FollowMe
        fields = ("enabled", "record_name", "offer_voicemail", "ignore_busy", "active_hours", "moh_group",
                  "fallback")
        destination_kinds = {"fallback": ROUTE_KINDS}

    def __init__(self, *args: Any, steps: list[dict[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["moh_group"].label = "Hold music"
        self.fields["active_hours"].empty_label = "— always —"
        shown = list(steps)
        if len(shown) < MAX_STEPS:
            shown.append({"ring_seconds": 20, "confirm": True, "targets": []})
        self.step_rows = []
        for number, step in enumerate(shown, start=1):
            prefix = f"step_{number}"
            self.fields[f"{prefix}_ring_seconds"] = forms.IntegerField(
                min_value=5, max_value=120, required=False, initial=step["ring_seconds"],
                label=f"Step {number}: seconds to ring")
            self.fields[f"{prefix}_confirm"] = forms.BooleanField(
                required=False, initial=step["confirm"], label=f"Step {number}: outside numbers press 1",
                help_text="Their voicemail cannot take the call.")
            targets = list(step["targets"])
            if len(targets) < MAX_TARGETS:
                targets.append("")
            names = []
            for slot, value in enumerate(targets, start=1):
                name = f"{prefix}_target_{slot}"
                self.fields[name] = DestinationFormField(
                    kinds=RINGABLE_KINDS, options_url=DESTINATION_OPTIONS_URL,
                    label=f"Step {number}, target {slot}", initial=value)
                names.append(name)
            self.step_rows.append((number, [self[f"{prefix}_ring_seconds"], self[f"{prefix}_confirm"]],
                                   [self[name] for name in names]))

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def steps(self) -> list[dict[str, Any]]:
        steps = []
        for number, _, targets in self.step_rows:
            chosen = [self.cleaned_data[field.name] for field in targets if self.cleaned_data[field.name]]
            if not chosen:
                continue  # a blank slot, or a step whose targets were all cleared
            seconds = self.cleaned_data[f"step_{number}_ring_seconds"]
            steps.append({"ring_seconds": 20 if seconds is None else seconds,
                          "confirm": self.cleaned_data[f"step_{number}_confirm"], "targets": chosen})
        return steps
