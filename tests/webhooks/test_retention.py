"""The delivery log's retention (webhooks.retention): rows older than
WEBHOOKS_DELIVERY_RETENTION_DAYS are deleted in batches by the beat task, newer rows and
old rows still pending stay, and the log page says how long rows are kept."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from switchboard.celery import app as celery_app
from tests.conftest import Browser, Tree
from webhooks.actions import do_create_webhook
from webhooks.models import WebhookDelivery
from webhooks.retention import purge
from webhooks.tasks import purge_deliveries

Status = WebhookDelivery.Status


def rows(tree: Tree, *ages_and_statuses: tuple[int, str]) -> list[int]:
    hook, _secret = do_create_webhook(tree.c1, actor=None, url="https://hooks.example.com/in",
                                      events=["call.ended"])
    made = []
    for days, status in ages_and_statuses:
        row = WebhookDelivery.objects.create(webhook=hook, account=tree.c1, event="call.ended",
                                             event_id=uuid.uuid4(), payload={}, status=status)
        # created_at is auto_now_add: aged afterwards.
        WebhookDelivery.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days))
        made.append(row.pk)
    return made


def test_rows_older_than_the_retention_are_purged_in_batches(tree: Tree, settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 30
    old = rows(tree, *[(31, Status.DELIVERED)] * 4, (45, Status.FAILED))
    young = rows(tree, (29, Status.DELIVERED), (1, Status.FAILED))
    stuck = rows(tree, (40, Status.PENDING))
    assert purge(batch=2) == 5
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == set(young + stuck)
    assert not left & set(old)
    # Nothing more to do: a second run deletes nothing.
    assert purge(batch=2) == 0


def test_the_beat_task_uses_the_setting(tree: Tree, settings):
    (week_old,) = rows(tree, (8, Status.DELIVERED))
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 10
    assert purge_deliveries() == 0
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 7
    assert purge_deliveries() == 1
    assert not WebhookDelivery.objects.filter(pk=week_old).exists()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "webhooks.purge_deliveries" in scheduled


def test_the_delivery_log_says_how_long_it_keeps(tree: Tree, settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 14
    hook, _secret = do_create_webhook(tree.c1, actor=None, url="https://hooks.example.com/in",
                                      events=["call.ended"])
    page = Browser("c1.localhost").login_as(tree.user("c1_admin")).get(f"/webhooks/{hook.pk}/deliveries/")
    assert page.status_code == 200
    assert "kept 14 days after its event" in page.content.decode()
