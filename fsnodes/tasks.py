"""Celery tasks. ``deliver_pending`` must run periodically (Celery beat, cron) so commands
whose on-commit task was lost (broker down) or that wait for a retry are delivered.

``fsnodes.deliver_node``, which the queue schedules after commit, is defined beside its
work (fsnodes.delivery.deliver_node_task) and registered when this module imports it:
the queue sits below this module (the retention sweep queues commands), so it cannot
import the task from here."""

from __future__ import annotations

from celery import shared_task

from fsnodes import delivery
from fsnodes.delivery import deliver_node_task

__all__ = ["deliver_node_task", "deliver_pending", "end_auth_blocks", "voicemail_reconcile",
           "voicemail_retention"]


@shared_task(name="fsnodes.deliver_pending", ignore_result=True)
def deliver_pending() -> int:
    """The sweep: every node with a due command."""
    return delivery.deliver_pending()


@shared_task(name="fsnodes.voicemail_retention", ignore_result=True)
def voicemail_retention() -> int:
    """Delete voicemail messages older than their box keeps them (fsnodes.voicemail_retention)."""
    from fsnodes.voicemail_retention import sweep

    return sweep()


@shared_task(name="fsnodes.end_auth_blocks", ignore_result=True)
def end_auth_blocks() -> int:
    """End expired SIP authentication blocks (fsnodes.auth_guard); the node manager does
    it every few seconds too, this covers deployments where it is not running."""
    from fsnodes.auth_guard import end_expired_blocks

    return end_expired_blocks()


@shared_task(name="fsnodes.voicemail_reconcile", ignore_result=True)
def voicemail_reconcile() -> int:
    """The voicemail message mirror made to match every node's listing
    (fsnodes.voicemail_messages): messages left while no node manager listened appear."""
    from fsnodes.voicemail_messages import reconcile_all

    return reconcile_all()
