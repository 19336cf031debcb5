"""Deliveries through Celery against the real broker (CELERY_BROKER_URL, e.g. RabbitMQ):
a worker consumes the queue, posts to a local receiver, and the retry after a 500 comes
back through the broker with its countdown. Skipped on kombu's filesystem transport.

The worker runs in this process (celery.contrib.testing), on a queue of its own so
another worker on the same broker cannot take the messages; it reads the database on
its own connection, so the data is committed (``transaction=True``)."""

from __future__ import annotations

import time

import pytest

from common.signals import call_event
from tenants.actions import do_bootstrap_master
from tests.celery_worker import needs_broker, worker_for
from tests.webhooks.receiver import Receiver
from webhooks.actions import do_create_webhook
from webhooks.models import WebhookDelivery

pytestmark = needs_broker


@pytest.mark.django_db(transaction=True)
def test_a_delivery_and_its_retry_go_through_the_broker(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_RETRY_DELAYS = (0.5, 0.5)
    receiver = Receiver(statuses=[500, 200])
    try:
        master = do_bootstrap_master(name="Provider", domains=["localhost"], admin_username="root",
                                     admin_password="a long password 1")
        hook, receiver.secret = do_create_webhook(master, actor=None, url=receiver.url,
                                                  events=["call.ended"])
        with worker_for("webhooks.*"):
            call_event.send(sender=None, event="call.ended", account_id=master.pk,
                            payload={"call_uuid": "c-1", "hangup_cause": "NORMAL_CLEARING"})
            requests = receiver.wait_for(2, timeout=20)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if WebhookDelivery.objects.get(webhook=hook).status == "delivered":
                    break
                time.sleep(0.05)
        assert len(requests) == 2 and all(r.verified for r in requests)
        row = WebhookDelivery.objects.get(webhook=hook)
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)
        # The retry waited for its countdown on the broker, not in a loop here.
        assert (row.delivered_at - row.created_at).total_seconds() >= 0.5
    finally:
        receiver.close()
