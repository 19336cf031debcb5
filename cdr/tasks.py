"""Celery beat: partitions ahead, retention (switchboard/celery.py schedules them)."""

from __future__ import annotations

from celery import shared_task

from cdr.partitions import apply_retention, ensure_partitions


@shared_task(name="cdr.ensure_partitions")
def ensure_partitions_task() -> list[str]:
    return ensure_partitions()


@shared_task(name="cdr.retention")
def retention_task() -> dict[str, int]:
    return apply_retention()
