"""Queue event-socket ``api`` commands for FreeSWITCH nodes: the write side of the outbox.

``enqueue()`` writes one ``NodeCommand`` row per node in the caller's transaction, so the
command exists exactly when the change that needs it commits, and asks a Celery worker to
deliver it once the transaction has committed. If the broker is down that request is lost,
the rows are not: the periodic ``fsnodes.deliver_pending`` sweep delivers them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction

from fsnodes.delivery import deliver_node_task
from fsnodes.models import FreeswitchNode, NodeCommand
from fsnodes.nodes import ensure_configured_nodes

log = logging.getLogger(__name__)


def validate_command(command: str) -> str:
    command = command.strip()
    if not command:
        raise ValueError("empty FreeSWITCH command")
    if any(ch in command for ch in "\r\n\0"):
        # A line break would end the api command early and smuggle in another one.
        raise ValueError(f"a FreeSWITCH command cannot contain a line break: {command!r}")
    return command


def enqueue(command: str, nodes: Iterable[FreeswitchNode] | None = None) -> list[NodeCommand]:
    """Queue ``api <command>`` for every enabled node (or for ``nodes``, those of them
    that are enabled). Returns the rows written."""
    return enqueue_many([command], nodes)


def enqueue_many(
    commands: Sequence[str], nodes: Iterable[FreeswitchNode] | None = None
) -> list[NodeCommand]:
    """Queue several commands, in this order, for every enabled node (or ``nodes``)."""
    commands = [validate_command(command) for command in commands]
    if not commands:
        return []
    ensure_configured_nodes()
    targets = FreeswitchNode.objects.filter(enabled=True)
    if nodes is not None:
        targets = targets.filter(pk__in=[node.pk for node in nodes])
    node_ids = list(targets.order_by("pk").values_list("pk", flat=True))
    if not node_ids:
        log.warning("no enabled FreeSWITCH node to send %r to", commands[0])
        return []
    with transaction.atomic():
        rows = NodeCommand.objects.bulk_create(
            [NodeCommand(node_id=node_id, command=command) for node_id in node_ids for command in commands]
        )
    for node_id in node_ids:
        transaction.on_commit(lambda node_id=node_id: schedule_delivery(node_id), robust=True)
    return rows


def schedule_delivery(node_id: int) -> None:
    """Ask a worker to deliver ``node_id``'s queue now. Never raises: with the broker
    down the commands wait for the next ``deliver_pending`` sweep."""
    try:
        # retry=False: with the broker down, fail at once instead of stalling the request
        # that committed the change; the sweep delivers later.
        deliver_node_task.apply_async((node_id,), retry=False)
    except Exception:
        log.warning(
            "could not hand node %s's FreeSWITCH commands to Celery; the deliver_pending sweep "
            "will send them", node_id, exc_info=True,
        )
