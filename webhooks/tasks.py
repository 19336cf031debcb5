"""Celery tasks: ``webhooks.deliver``, one try of a delivery (it queues its own retry
with a countdown; defined in webhooks.delivery beside its work), and ``webhooks.sweep``,
which sends what a lost message or a dead worker left due (Celery beat, every 30 s), and
``webhooks.purge_deliveries``, the delivery log's retention (webhooks.retention, hourly)."""

from __future__ import annotations

from celery import shared_task

from webhooks import delivery, retention
from webhooks.delivery import deliver_task

__all__ = ["deliver_task", "purge_deliveries", "sweep"]


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    ids = delivery.due()
    for pk in ids:
        deliver_task.delay(pk)
    return len(ids)


@shared_task(name="webhooks.purge_deliveries", ignore_result=True)
def purge_deliveries() -> int:
    return retention.purge()
