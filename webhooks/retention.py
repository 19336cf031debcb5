"""How long the delivery log keeps its rows: WEBHOOKS_DELIVERY_RETENTION_DAYS (default
30) after the event. ``webhooks.purge_deliveries`` (Celery beat, every hour) deletes the
older rows in batches of PURGE_BATCH, each its own short transaction, so a log of
millions of rows is never locked whole and the event receivers never wait long. A row
still pending (its retries last about three hours) is left to finish."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import WebhookDelivery

RETENTION_DAYS = 30
PURGE_BATCH = 5000

_PURGE_SQL = f"""
DELETE FROM {WebhookDelivery._meta.db_table} WHERE id IN (
    SELECT id FROM {WebhookDelivery._meta.db_table}
    WHERE created_at < %(cutoff)s AND status <> %(pending)s
    ORDER BY created_at LIMIT %(batch)s
)"""


def retention_days() -> int:
    return int(getattr(settings, "WEBHOOKS_DELIVERY_RETENTION_DAYS", RETENTION_DAYS))


def purge(*, batch: int = PURGE_BATCH) -> int:
    """Delete the delivery rows older than the retention; the number deleted."""
    cutoff = timezone.now() - timedelta(days=retention_days())
    params = {"cutoff": cutoff, "pending": WebhookDelivery.Status.PENDING, "batch": batch}
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PURGE_SQL, params)
            count = cursor.rowcount
        deleted += count
        if count < batch:
            return deleted
