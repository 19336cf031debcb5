"""Deliver queued ``NodeCommand`` rows over the inbound event socket: the read side of the
outbox.

* One delivery per node at a time: the node's row is locked ``FOR NO KEY UPDATE SKIP
  LOCKED`` for the whole session, so a second worker (the on-commit task and the sweep, or
  two sweeps) skips that node instead of sending its commands twice or out of order.
  ``NO KEY`` matters: it does not conflict with the ``FOR KEY SHARE`` lock that inserting a
  command (a foreign key to the node) takes, so ``enqueue()`` never waits for a delivery.
  A worker that dies mid-session loses its connection, and PostgreSQL drops the lock.
* Per node, pending commands go in ``id`` order over one connection. Head of line: while
  the oldest pending command waits for its retry time, younger ones wait with it.
* A session that ends without an answer (connect refused or timed out, password refused,
  reply timeout, disconnect) counts one attempt for every command it did not get an answer
  to, and all of them are retried after ``retry_delay(attempts of the oldest)``: 1 s, 2 s,
  4 s, ... capped at 5 minutes, forever (disable a node to stop).
* An answer starting with ``-ERR`` (or ``-USAGE``) is final: the command is marked
  ``failed``, logged, and the next one is sent.
* At least once, not exactly once: a command whose answer was lost (timeout, crash before
  the commit) is sent again, so queued commands must be idempotent (``xml_flush_cache`` is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from esl.client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REPLY_TIMEOUT, ESLError, InboundESL
from fsnodes.models import FreeswitchNode, NodeCommand

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 1
RETRY_MAX_SECONDS = 300
BATCH_SIZE = 100
FAILURE_PREFIXES = ("-ERR", "-USAGE")

Status = NodeCommand.Status


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed session: 1 s, 2 s, 4 s ... 5 min."""
    exponent = min(max(attempts, 1) - 1, 20)
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2**exponent, RETRY_MAX_SECONDS))


@dataclass
class BatchOutcome:
    answered: int = 0
    # The node's lock was taken and its due commands were all answered: look again for
    # commands committed meanwhile (their own delivery task skipped the locked node).
    clean: bool = False


def deliver_node(
    node_id: int,
    *,
    now: datetime | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
) -> int:
    """Send ``node_id``'s due commands. Returns how many FreeSWITCH answered (done or
    failed). Returns 0 at once if another worker is delivering to this node."""
    answered = 0
    while True:
        outcome = _deliver_batch(node_id, now, connect_timeout, reply_timeout)
        answered += outcome.answered
        if not outcome.clean or not _has_due_commands(node_id, now):
            return answered


def deliver_pending(*, now: datetime | None = None, **timeouts: float) -> int:
    """The sweep: deliver every enabled node that has a due command. Returns how many
    commands were answered."""
    from fsnodes.nodes import sync_configured_nodes

    sync_configured_nodes()
    moment = now or timezone.now()
    node_ids = (
        NodeCommand.objects.filter(status=Status.PENDING, next_attempt_at__lte=moment, node__enabled=True)
        .order_by("node_id")
        .values_list("node_id", flat=True)
        .distinct()
    )
    return sum(deliver_node(node_id, now=now, **timeouts) for node_id in list(node_ids))


# Defined here, beside its work, rather than in fsnodes.tasks: fsnodes.queue schedules it
# after commit, and the queue sits below fsnodes.tasks (which runs the retention sweep,
# which queues commands), so importing it from there would close a cycle.
@shared_task(name="fsnodes.deliver_node", ignore_result=True)
def deliver_node_task(node_id: int) -> int:
    """Deliver one node's queue; scheduled by ``fsnodes.queue`` after commit."""
    return deliver_node(node_id)


def _has_due_commands(node_id: int, now: datetime | None) -> bool:
    return NodeCommand.objects.filter(
        node_id=node_id, status=Status.PENDING, next_attempt_at__lte=now or timezone.now()
    ).exists()


def _deliver_batch(
    node_id: int, now: datetime | None, connect_timeout: float, reply_timeout: float
) -> BatchOutcome:
    with transaction.atomic():
        node = (
            FreeswitchNode.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(pk=node_id, enabled=True)
            .first()
        )
        if node is None:
            return BatchOutcome()  # disabled, deleted, or being delivered by another worker
        moment = now or timezone.now()
        batch = list(node.commands.filter(status=Status.PENDING).order_by("id")[:BATCH_SIZE])
        if not batch or batch[0].next_attempt_at > moment:
            return BatchOutcome()  # nothing queued, or the oldest waits for its retry time
        password = node.esl_password
        if password is None:
            _session_failed(node, batch, moment, "the ESL password cannot be decrypted (key changed?)")
            return BatchOutcome()

        answered: list[NodeCommand] = []
        esl = InboundESL(
            node.host, node.esl_port, password,
            connect_timeout=connect_timeout, reply_timeout=reply_timeout,
        )
        try:
            with esl:
                node.last_seen_at, node.last_error = moment, ""
                for command in batch:
                    reply = esl.api(command.command)
                    _record_reply(node, command, reply, moment)
                    answered.append(command)
        except ESLError as exc:
            _session_failed(node, batch[len(answered):], moment, str(exc))
            node.save(update_fields=["last_seen_at", "last_error"])
            return BatchOutcome(answered=len(answered))
        node.save(update_fields=["last_seen_at", "last_error"])
        return BatchOutcome(answered=len(answered), clean=True)


def _record_reply(node: FreeswitchNode, command: NodeCommand, reply: str, moment: datetime) -> None:
    command.reply = reply.rstrip("\n")
    command.delivered_at = moment
    if command.reply.startswith(FAILURE_PREFIXES):
        command.status = Status.FAILED
        command.last_error = command.reply
        log.error("FreeSWITCH node %s refused %r: %s", node.name, command.command, command.reply)
    else:
        command.status = Status.DONE
    command.save(update_fields=["reply", "delivered_at", "status", "last_error"])


def _session_failed(
    node: FreeswitchNode, unanswered: list[NodeCommand], moment: datetime, error: str
) -> None:
    """Count an attempt for every unanswered command; retry them all together, after the
    backoff of the oldest."""
    if not unanswered:
        return
    retry_at = moment + retry_delay(unanswered[0].attempts + 1)
    for command in unanswered:
        command.attempts += 1
        command.last_error = error
        command.next_attempt_at = retry_at
    NodeCommand.objects.bulk_update(unanswered, ["attempts", "last_error", "next_attempt_at"])
    node.last_error = error
    FreeswitchNode.objects.filter(pk=node.pk).update(last_error=error)
    log.warning(
        "FreeSWITCH node %s: %s; %d command(s) queued, next try at %s (attempt %d)",
        node.name, error, len(unanswered), retry_at.isoformat(), unanswered[0].attempts,
    )
