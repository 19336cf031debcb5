"""Celery tasks. ``deliver_pending`` must run periodically (Celery beat, cron) so commands
whose on-commit task was lost (broker down) or that wait for a retry are delivered."""

from __future__ import annotations

from celery import shared_task

from fsnodes import delivery


@shared_task(name="fsnodes.deliver_node", ignore_result=True)
def deliver_node(node_id: int) -> int:
    """Deliver one node's queue; scheduled by ``enqueue()`` after commit."""
    return delivery.deliver_node(node_id)


@shared_task(name="fsnodes.deliver_pending", ignore_result=True)
def deliver_pending() -> int:
    """The sweep: every node with a due command."""
    return delivery.deliver_pending()


@shared_task(name="fsnodes.voicemail_retention", ignore_result=True)
def voicemail_retention() -> int:
    """Delete voicemail messages older than their box keeps them (fsnodes.voicemail_retention)."""
    from fsnodes.voicemail_retention import sweep

    return sweep()
