"""Call queues, their agents, and the agent feature codes (*62 login, *062 logout, *95
pause, *095 unpause). Every write here also tells mod_callcenter: callcenter.conf is
built again and every node gets ``callcenter_config`` commands after commit
(pbx.queues, pbx.signals.callcenter_changed), so FreeSWITCH never needs a reload.

An agent's login and pause are kept here too, not only in mod_callcenter's memory: a
node that restarts or reloads the queue gets them back from callcenter.conf.

Deleting an extension takes it out of its queues instead of being refused
(:func:`forget_extension`): a queue's agents are its staff list, not a route — the queue
still answers, waits and falls back with the agents left — and refusing would turn
removing a departed employee into editing every queue they were in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx import queues as cc
from pbx.actions.checks import row, target
from pbx.actions.common import changed
from pbx.actions.crud import ADMINS, CrudActions, Verb, authorize
from pbx.models import CallQueue, DestinationKind, Extension, MohGroup, QueueAgent
from pbx.signals import IndexScope, callcenter_changed
from tenants.actions import record
from tenants.models import Account, Role, User

QUEUE_FIELDS = (
    "name", "strategy", "moh_group", "greeting", "announcement", "announcement_seconds",
    "max_wait_seconds", "max_wait_no_agent_seconds", "fallback", "exit_key", "tier_rules_apply",
    "tier_rule_wait_seconds", "tier_rule_wait_multiply_level", "tier_rule_no_agent_no_wait",
    "discard_abandoned_after", "abandoned_resume_allowed", "record_calls", "caller_id_name_prefix",
    "time_base_score", "agent_ring_seconds", "agent_no_answer_delay", "agent_busy_delay",
    "agent_reject_delay", "agent_wrap_up_seconds", "agent_max_no_answer",
)
PROMPT_FIELDS = ("greeting", "announcement")
MAX_AGENTS = 200
AGENT_ACTIONS = ("login", "logout", "pause", "unpause")
# Who writes call queues and their agents: the admins, and the call-center supervisor,
# whose role manages the queues and nothing else. The actions below, the portal's queue
# pages and GET /api/v1/roles/ all ask this.
QUEUE_WRITERS: tuple[str, ...] = (*ADMINS, Role.SUPERVISOR)


@dataclass(frozen=True)
class Agent:
    """One member of a queue: an extension of the tenant (the row, or its primary key)."""
    extension: Extension | int | str
    level: int = 1
    position: int | None = None  # None: its place in the list
    login_required: bool = False


def _tell(account: Account, commands: list[str]) -> None:
    callcenter_changed.send(sender=CallQueue, account=account, commands=commands)


def _name(account: Account, queue_pk: int) -> str:
    return cc.queue_name(queue_pk, account.primary_domain_name)


def _leaving(account: Account, queue_pk: int, extension_pks: Iterable[int]) -> list[str]:
    """The commands taking these extensions' agents out of the queue in mod_callcenter."""
    domain, queue_name = account.primary_domain_name, _name(account, queue_pk)
    return [command for extension_pk in extension_pks
            for command in cc.remove_agent(queue_name, cc.agent_name(queue_pk, extension_pk, domain))]


class _Queues(CrudActions[CallQueue]):
    model = CallQueue
    audit_name = "queue"
    index = IndexScope.NOTHING
    fields = (*QUEUE_FIELDS, "number")
    kind = DestinationKind.QUEUE
    numbered = True
    identity = ("number", "name")
    row_fields = {"moh_group": MohGroup}
    prompt_fields = PROMPT_FIELDS
    writers = QUEUE_WRITERS

    def check(self, account: Account, queue: CallQueue, fields: Mapping[str, Any]) -> None:
        target("fallback", queue.fallback, not_to=self.itself(queue), what="A queue")

    def routes(self, queue: CallQueue) -> dict[str, str]:
        return {"fallback": queue.fallback}

    def written(self, account: Account, queue: CallQueue, verb: Verb) -> None:
        _tell(account, [cc.reload_queue(_name(account, queue.pk))])

    def deleting(self, account: Account, queue: CallQueue) -> Callable[[], None]:
        # Its agents go with it (cascade): read them while they are there.
        members = list(queue.agents.values_list("extension_id", flat=True))
        commands = [*_leaving(account, queue.pk, members), cc.unload_queue(_name(account, queue.pk))]
        return lambda: _tell(account, commands)


_queues = _Queues()


def do_create_queue(account: Account, *, number: str, name: str, actor: User | None = None,
                    ip: str | None = None, **fields) -> CallQueue:
    return _queues.create(account, number=number, name=name, actor=actor, ip=ip, **fields)


def do_update_queue(account: Account, queue: CallQueue, *, actor: User | None = None,
                    ip: str | None = None, **fields) -> CallQueue:
    return _queues.update(account, queue, actor=actor, ip=ip, **fields)


def do_delete_queue(account: Account, queue: CallQueue, *, actor: User | None = None,
                    ip: str | None = None) -> None:
    _queues.delete(account, queue, actor=actor, ip=ip)


@transaction.atomic
def do_set_queue_agents(account: Account, queue: CallQueue, agents: Iterable[Agent], *,
                        actor: User | None = None, ip: str | None = None) -> list[QueueAgent]:
    """Make ``agents`` the queue's agents. An extension already in the queue keeps its
    login and pause; one left out leaves the queue."""
    authorize(actor, account, roles=QUEUE_WRITERS)
    agents = list(agents)
    with schema_context(account.schema_name):
        queue = CallQueue.objects.select_for_update().get(pk=queue.pk)
        current = {member.extension_id: member for member in queue.agents.all()}
        errors: list[str] = []
        if len(agents) > MAX_AGENTS:
            errors.append(f"A queue has at most {MAX_AGENTS} agents.")
        wanted: dict[int, QueueAgent] = {}
        for place, agent in enumerate(agents, start=1):
            try:
                extension = row(Extension, agent.extension, "agents")
                if extension is None:
                    raise ValidationError({"agents": ["Choose an extension."]})
                if extension.pk in wanted:
                    raise ValidationError({"agents": [f"Extension {extension.number} is already an agent "
                                                      "of this queue."]})
                member = current.get(extension.pk) or QueueAgent(queue=queue, extension=extension)
                member.level = agent.level
                member.position = place if agent.position is None else agent.position
                member.login_required = bool(agent.login_required)
                member.full_clean(validate_unique=False)
            except ValidationError as exc:
                errors += [f"Agent {place}: {message}" for message in exc.messages]
                continue
            wanted[extension.pk] = member
        if errors:
            raise ValidationError({"agents": errors})
        gone = [pk for pk in current if pk not in wanted]
        QueueAgent.objects.filter(queue=queue, extension_id__in=gone).delete()
        for member in wanted.values():
            member.save()
        numbers = dict(Extension.objects.filter(pk__in=wanted).values_list("pk", "number"))
    record(actor, account, "queue.agents", ip=ip, number=queue.number,
           agents=[numbers[pk] for pk in wanted])
    changed(account, index=IndexScope.NOTHING)
    _tell(account, [*_leaving(account, queue.pk, gone), cc.reload_queue(_name(account, queue.pk))])
    return list(wanted.values())


@transaction.atomic
def do_set_agent_status(account: Account, extension: Extension, action: str) -> list[QueueAgent]:
    """What an agent feature code dialed by ``extension`` does: ``login`` / ``logout``
    its memberships that require a login; ``pause`` / ``unpause`` all of them. Returns
    the memberships it applied to (none: the extension is no such agent)."""
    if action not in AGENT_ACTIONS:
        raise ValueError(f"unknown agent action {action!r}")
    with schema_context(account.schema_name):
        members = QueueAgent.objects.select_for_update(of=("self",)).filter(extension_id=extension.pk)
        if action in ("login", "logout"):
            members = members.filter(login_required=True)
        members = list(members.select_related("queue", "extension"))
        for member in members:
            if action in ("login", "logout"):
                member.logged_in = action == "login"
                member.paused = False  # a new login starts ready for calls
            else:
                member.paused = action == "pause"
        QueueAgent.objects.bulk_update(members, ["logged_in", "paused"])
    if not members:
        return []
    record(None, account, f"queue_agent.{action}", extension=members[0].extension.number,
           queues=[member.queue.number for member in members])
    domain = account.primary_domain_name
    # Every status is sent, changed here or not: mod_callcenter itself puts an agent who
    # missed too many calls on break, which only an explicit status undoes.
    _tell(account, [cc.set_status(cc.agent_name(member.queue_id, member.extension_id, domain), member.status)
                    for member in members])
    return members


def forget_extension(account: Account, extension: Extension) -> None:
    """``extension`` is being deleted (the caller's transaction): its memberships go
    with it (cascade); mod_callcenter loses the agents too. Run in the tenant's schema."""
    members = list(QueueAgent.objects.filter(extension=extension).values_list("queue_id", flat=True))
    if not members:
        return
    domain = account.primary_domain_name
    _tell(account, [command for queue_pk in members
                    for command in cc.remove_agent(_name(account, queue_pk),
                                                   cc.agent_name(queue_pk, extension.pk, domain))])


def extension_changed(account: Account, extension: Extension) -> None:
    """``extension`` was renumbered, enabled or disabled: its agents' contacts and
    statuses changed. Run in the tenant's schema, inside the caller's transaction."""
    queue_pks = list(QueueAgent.objects.filter(extension=extension).values_list("queue_id", flat=True))
    if queue_pks:
        _tell(account, [cc.reload_queue(_name(account, pk)) for pk in queue_pks])

