"""Call queues and their agents. An agent is one extension's membership of the queue,
with its tier (level, position) and whether it must log in with *62; the whole list is
written at once by ``do_set_queue_agents``, whose refusals are shown above the list."""

from __future__ import annotations

from typing import Any

from django import forms

from pbx.actions.checks import ROUTE_KINDS
from pbx.actions.queues import Agent
from pbx.models import CallQueue, Extension, QueueAgent
from pbx.portal.forms.base import PortalForm
from switchboard.views.forms import ActionForm


class CallQueueForm(PortalForm):
    class Meta:
        model = CallQueue
        fields = (
            "number", "name", "strategy", "moh_group", "greeting", "announcement",
            "announcement_seconds", "max_wait_seconds", "max_wait_no_agent_seconds", "fallback",
            "exit_key", "tier_rules_apply", "tier_rule_wait_seconds", "tier_rule_wait_multiply_level",
            "tier_rule_no_agent_no_wait", "discard_abandoned_after", "abandoned_resume_allowed",
            "record_calls", "caller_id_name_prefix", "time_base_score", "agent_ring_seconds",
            "agent_no_answer_delay", "agent_busy_delay", "agent_reject_delay", "agent_wrap_up_seconds",
            "agent_max_no_answer",
        )
        destination_kinds = {"fallback": ROUTE_KINDS}


class AgentsForm(ActionForm):
    """One row per current agent (its tier, login, and a remove box) and one row to add
    an extension; :meth:`agents` is the new list as the action takes it."""

    new_extension = forms.ModelChoiceField(queryset=Extension.objects.none(), required=False,
                                           label="Add an agent", empty_label="— nobody —")
    new_level = forms.IntegerField(min_value=1, max_value=9, initial=1, label="Level of the new agent")
    new_login_required = forms.BooleanField(required=False, label="The new agent logs in with *62")

    def __init__(self, *args: Any, members: list[QueueAgent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        taken = [member.extension_id for member in members]
        self.fields["new_extension"].queryset = Extension.objects.exclude(pk__in=taken).order_by("number")
        self.rows = []
        for member in members:
            prefix = f"agent_{member.extension_id}"
            number = member.extension.number
            self.fields[f"{prefix}_level"] = forms.IntegerField(
                min_value=1, max_value=9, initial=member.level, label=f"Level of {number}")
            self.fields[f"{prefix}_position"] = forms.IntegerField(
                min_value=1, max_value=999, initial=member.position, label=f"Position of {number}")
            self.fields[f"{prefix}_login_required"] = forms.BooleanField(
                required=False, initial=member.login_required, label=f"{number} logs in with *62")
            self.fields[f"{prefix}_remove"] = forms.BooleanField(required=False, label=f"Remove {number}")
            self.rows.append((member, [self[f"{prefix}_{part}"] for part in
                                       ("level", "position", "login_required", "remove")]))

    def agents(self) -> list[Agent]:
        data = self.cleaned_data
        kept = [Agent(member.extension_id, level=data[f"agent_{member.extension_id}_level"],
                      position=data[f"agent_{member.extension_id}_position"],
                      login_required=data[f"agent_{member.extension_id}_login_required"])
                for member in self.members if not data[f"agent_{member.extension_id}_remove"]]
        if data.get("new_extension") is not None:
            last = max((agent.position or 0 for agent in kept), default=0)
            kept.append(Agent(data["new_extension"].pk, level=data.get("new_level") or 1,
                              position=min(last + 1, 999), login_required=data["new_login_required"]))
        return kept
