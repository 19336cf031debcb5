"""Call queues (FreeSWITCH's mod_callcenter): callers wait with hold music until one of
the queue's agents takes the call, or leave for the fallback when their wait is over.

An agent is an extension's membership of one queue: its tier (level and position, in
mod_callcenter's terms), whether it is always in the queue ("static") or must log in
with *62 ("dynamic"), and the state the agent feature codes set (logged in, paused),
kept here so that FreeSWITCH gets it back whenever it reloads the queue. Each
membership is its own mod_callcenter agent, so the queue's agent timing applies to it
and logging in or pausing is per queue (pbx.queues names them)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from pbx.models.base import Numbered
from pbx.models.destinations import DestinationField
from pbx.models.extensions import Extension
from pbx.models.media import MohGroup, Prompt
from tenants.validators import validate_printable

DAY = 86400  # mod_callcenter's bound for every time setting (config_int_0_86400)


class QueueStrategy(models.TextChoices):
    """mod_callcenter's own strategy names (the values are what FreeSWITCH is given)."""
    RING_ALL = "ring-all", "Ring all available agents at once"
    LONGEST_IDLE_AGENT = "longest-idle-agent", "The agent idle the longest"
    ROUND_ROBIN = "round-robin", "Round robin, from the agent after the last one"
    TOP_DOWN = "top-down", "Top down, always from the first agent"
    LEAST_TALK_TIME = "agent-with-least-talk-time", "The agent with the least talk time"
    FEWEST_CALLS = "agent-with-fewest-calls", "The agent with the fewest calls"
    SEQUENTIALLY_BY_AGENT_ORDER = "sequentially-by-agent-order", "One agent after another, in order"
    RANDOM = "random", "A random agent"
    RING_PROGRESSIVELY = "ring-progressively", "Ring agents one by one, keeping the earlier ones ringing"


class TimeBaseScore(models.TextChoices):
    QUEUE = "queue", "Time in this queue"
    SYSTEM = "system", "Time since the call started"


validate_exit_key = RegexValidator(r"^[0-9*#]?$", "A key is 0-9, * or #.", code="invalid_key")


def seconds(default: int, *, low: int = 0, high: int = DAY, help_text: str = "") -> models.Field:
    return models.PositiveIntegerField(default=default, help_text=help_text,
                                       validators=[MinValueValidator(low), MaxValueValidator(high)])


class CallQueue(Numbered):
    strategy = models.CharField(max_length=32, choices=QueueStrategy.choices,
                                default=QueueStrategy.LONGEST_IDLE_AGENT)
    moh_group = models.ForeignKey(MohGroup, null=True, blank=True, on_delete=models.PROTECT,
                                  help_text="What callers hear while they wait; empty: the stock music.")
    greeting = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="Played once when the caller enters the queue.")
    announcement = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+",
                                     help_text="Played again and again while the caller waits.")
    announcement_seconds = seconds(60, low=10, help_text="How often the announcement plays.")
    max_wait_seconds = seconds(0, help_text="The longest a caller waits; 0: no limit.")
    max_wait_no_agent_seconds = seconds(
        0, help_text="How long callers wait while no agent is logged in; 0: no limit.")
    fallback = DestinationField(help_text="Where callers go when their wait is over or they press the "
                                          "exit key; empty hangs up.")
    exit_key = models.CharField(max_length=1, blank=True, validators=[validate_exit_key],
                                help_text="A key the caller presses to leave for the fallback.")
    # Tiers: agents of level 1 are offered calls first; the rules open the next levels.
    tier_rules_apply = models.BooleanField(default=False)
    tier_rule_wait_seconds = seconds(0, help_text="Wait before calls go to the next level.")
    tier_rule_wait_multiply_level = models.BooleanField(
        default=False, help_text="Multiply that wait by the level.")
    tier_rule_no_agent_no_wait = models.BooleanField(
        default=True, help_text="Skip a level with no available agent at once.")
    discard_abandoned_after = seconds(60, help_text="How long a caller who hung up keeps their place.")
    abandoned_resume_allowed = models.BooleanField(
        default=False, help_text="A caller who hung up and calls back gets their place back.")
    record_calls = models.BooleanField(default=False)
    caller_id_name_prefix = models.CharField(max_length=20, blank=True, validators=[validate_printable],
                                             help_text="Shown to agents before the caller's name.")
    time_base_score = models.CharField(max_length=8, choices=TimeBaseScore.choices,
                                       default=TimeBaseScore.QUEUE,
                                       help_text="Which waiting time orders the callers.")
    # mod_callcenter's agent settings; every agent of this queue gets them.
    agent_ring_seconds = seconds(20, low=5, high=300, help_text="How long an agent's phone rings.")
    agent_no_answer_delay = seconds(30, help_text="Seconds before an agent who did not answer is "
                                                  "offered a call again.")
    agent_busy_delay = seconds(60, help_text="Seconds before a busy agent is offered a call again.")
    agent_reject_delay = seconds(10, help_text="Seconds before an agent who declined is offered a "
                                               "call again.")
    agent_wrap_up_seconds = seconds(10, help_text="Rest after each queue call.")
    agent_max_no_answer = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(100)],
        help_text="Calls an agent may miss in a row before being put on break; 0: no limit.")


class AgentStatus(models.TextChoices):
    """mod_callcenter's agent statuses (the values are FreeSWITCH's)."""
    AVAILABLE = "Available", "Available"
    ON_BREAK = "On Break", "On break (paused)"
    LOGGED_OUT = "Logged Out", "Logged out"


class QueueAgent(models.Model):
    queue = models.ForeignKey(CallQueue, on_delete=models.CASCADE, related_name="agents")
    # Deleting an extension takes it out of its queues (pbx.actions.queues explains why).
    extension = models.ForeignKey(Extension, on_delete=models.CASCADE, related_name="queue_memberships")
    level = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(9)],
        help_text="Agents of level 1 are offered calls first.")
    position = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text="The order within a level (top down, in order, ring progressively).")
    login_required = models.BooleanField(
        default=False, help_text="Off: always in the queue. On: in it after dialing *62, until *062.")
    # What the agent feature codes set; never written by the admin's agent edits.
    logged_in = models.BooleanField(default=False)
    paused = models.BooleanField(default=False)

    class Meta:
        ordering = ["queue", "level", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["queue", "extension"],
                                               name="pbx_queueagent_unique_extension")]

    def __str__(self) -> str:
        return f"{self.queue.number}: {self.extension_id}"

    @property
    def status(self) -> str:
        return agent_status(self.login_required, self.logged_in, self.paused, self.extension.enabled)


def agent_status(login_required: bool, logged_in: bool, paused: bool, enabled: bool = True) -> str:
    """mod_callcenter's status for an agent; a disabled extension takes no queue calls."""
    if not enabled or (login_required and not logged_in):
        return AgentStatus.LOGGED_OUT
    return AgentStatus.ON_BREAK if paused else AgentStatus.AVAILABLE
