"""Webhook deliveries (webhooks/delivery.py) against a real local HTTP receiver: signed
and verified, retried with backoff after a 500 or a refused connection, redirects not
followed, a slow receiver cut at the timeout, and private targets refused (SSRF)."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from common.signals import call_event
from tests.conftest import Tree
from tests.webhooks.receiver import Receiver, free_port
from webhooks import signing
from webhooks.actions import do_create_webhook, do_redeliver, do_update_webhook
from webhooks.delivery import body_of, deliver
from webhooks.models import Webhook, WebhookDelivery
from webhooks.tasks import sweep

PAYLOAD = {"call_uuid": "5b0f1c2e-0000-4000-8000-000000000001", "caller_number": "1001",
           "destination": "2000", "direction": "internal"}


def hook_for(tree: Tree, receiver: Receiver, url: str | None = None, **fields) -> Webhook:
    hook, secret = do_create_webhook(tree.c1, actor=tree.user("c1_admin"), url=url or receiver.url, **fields)
    receiver.secret = secret
    return hook


def send(committed, account_id: int, event: str = "call.started", payload: dict | None = None) -> None:
    with committed():
        call_event.send(sender=None, event=event, account_id=account_id, payload=payload or PAYLOAD)


def wait_status(pk: int, status: str, timeout: float = 5.0) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while True:
        row = WebhookDelivery.objects.get(pk=pk)
        if row.status == status or time.monotonic() > deadline:
            return row
        sweep()
        time.sleep(0.03)


def test_an_event_is_posted_once_per_subscribed_webhook_signed_and_verified(
        tree: Tree, eager, local_targets, receiver: Receiver, committed):
    hook = hook_for(tree, receiver, events=["call.started", "call.ended"])
    other = Receiver()
    try:
        # Not subscribed, disabled, another tenant's: none of them hears C1's call.started.
        do_create_webhook(tree.c1, actor=None, url=other.url, events=["call.ended"])
        do_create_webhook(tree.c1, actor=None, url=other.url, events=["call.started"], enabled=False)
        do_create_webhook(tree.c2, actor=None, url=other.url, events=["call.started"])
        send(committed, tree.c1.pk)
        (request,) = receiver.wait_for(1)
        time.sleep(0.2)
        assert other.requests == []
    finally:
        other.close()
    assert request.verified, request.headers
    assert request.path == "/hooks/switchboard?source=test"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Switchboard-Event"] == "call.started"
    document = request.document
    assert document["type"] == "call.started" and document["account_id"] == tree.c1.pk
    assert document["data"] == PAYLOAD
    assert request.headers["X-Switchboard-Delivery"] == document["id"]
    (row,) = WebhookDelivery.objects.filter(webhook=hook)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 1, 200, "")
    assert row.delivered_at is not None and row.next_attempt_at is None
    assert body_of(row) == request.body
    # The same body with another secret, a changed body, or an old timestamp: refused.
    header = request.headers[signing.HEADER]
    assert not signing.verify("whsec_other", request.body, header)
    assert not signing.verify(receiver.secret, request.body.replace(b"1001", b"1002"), header)
    assert not signing.verify(receiver.secret, request.body, header, now=time.time() + 600)


def test_a_500_is_retried_with_the_same_event_then_delivered(
        tree: Tree, eager, local_targets, receiver: Receiver, committed):
    receiver.statuses = [500, 503, 200]
    hook = hook_for(tree, receiver, events=["call.ended"])
    send(committed, tree.c1.pk, "call.ended")
    (row,) = WebhookDelivery.objects.filter(webhook=hook)
    row = WebhookDelivery.objects.get(pk=row.pk)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("pending", 1, 500, "HTTP 500")
    assert row.next_attempt_at is not None
    row = wait_status(row.pk, "delivered")
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    requests = receiver.wait_for(3)
    assert len(requests) == 3 and all(r.verified for r in requests)
    assert len({r.headers["X-Switchboard-Delivery"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1


def test_a_receiver_that_is_down_is_retried_until_the_attempts_run_out(
        tree: Tree, eager, local_targets, receiver: Receiver, committed):
    hook = hook_for(tree, receiver, url=f"http://127.0.0.1:{free_port()}/down", events=["call.started"])
    send(committed, tree.c1.pk)
    (row,) = WebhookDelivery.objects.filter(webhook=hook)
    row = wait_status(row.pk, "failed")
    # WEBHOOKS_RETRY_DELAYS has three delays: four tries in all.
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 4, None)
    assert "ConnectionRefused" in row.last_error and row.next_attempt_at is None
    # Up again: a redelivery is a new log row for the same event, delivered.
    do_update_webhook(tree.c1, hook, actor=tree.user("c1_admin"), url=receiver.url)
    with committed():
        again = do_redeliver(tree.c1, row, actor=tree.user("c1_admin"), ip="198.51.100.7")
    again = WebhookDelivery.objects.get(pk=again.pk)
    assert (again.status, again.attempts, again.event_id) == ("delivered", 1, row.event_id)
    (request,) = receiver.wait_for(1)
    assert request.verified and request.document["id"] == str(row.event_id)


def test_redirects_are_not_followed_and_a_slow_receiver_is_cut_at_the_timeout(
        tree: Tree, eager, local_targets, receiver: Receiver, committed, settings):
    elsewhere = Receiver()
    try:
        redirecting = Receiver(statuses=[302], location=elsewhere.url)
        try:
            hook = hook_for(tree, redirecting, events=["call.started"])
            send(committed, tree.c1.pk)
            (row,) = WebhookDelivery.objects.filter(webhook=hook)
            assert row.last_status_code == 302 and "redirects are not followed" in row.last_error
            assert len(redirecting.requests) == 1 and elsewhere.requests == []
        finally:
            redirecting.close()
    finally:
        elsewhere.close()
    settings.WEBHOOKS_TIMEOUT = 0.3
    receiver.delay = 1.0
    slow = hook_for(tree, receiver, events=["call.answered"])
    started = time.monotonic()
    send(committed, tree.c1.pk, "call.answered")
    assert time.monotonic() - started < 0.9
    (row,) = WebhookDelivery.objects.filter(webhook=slow)
    assert row.status == "pending" and row.last_error == "No answer within 0.3 s."


def test_private_targets_are_refused_unless_allowed(tree: Tree, eager, receiver: Receiver, committed,
                                                    settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    admin = tree.user("c1_admin")
    for url in ("http://127.0.0.1/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
                "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
                "ftp://example.com/x", "http://user:pw@example.com/x"):
        with pytest.raises(ValidationError) as refused:
            do_create_webhook(tree.c1, actor=admin, url=url, events=["call.started"])
        assert "url" in refused.value.message_dict, url
    # A name is resolved when the delivery is made: localhost is refused there, and
    # nothing reaches the receiver listening on it.
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    hook, _secret = do_create_webhook(tree.c1, actor=admin, url=by_name, events=["call.started"])
    send(committed, tree.c1.pk)
    (row,) = WebhookDelivery.objects.filter(webhook=hook)
    assert row.status == "pending" and "private, loopback or reserved" in row.last_error
    assert receiver.requests == []
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    row = wait_status(row.pk, "delivered")
    assert row.status == "delivered" and len(receiver.requests) == 1


def test_a_disabled_webhooks_pending_delivery_is_not_sent(tree: Tree, local_targets, receiver: Receiver):
    hook = hook_for(tree, receiver, events=["call.started"])
    call_event.send(sender=None, event="call.started", account_id=tree.c1.pk, payload=PAYLOAD)
    (row,) = WebhookDelivery.objects.filter(webhook=hook)
    Webhook.objects.filter(pk=hook.pk).update(enabled=False)
    assert deliver(row.pk) == "failed"
    assert deliver(row.pk) == "not due"
    assert receiver.requests == []


def test_a_voicemail_left_is_posted_with_the_box_and_the_caller(
        tree: Tree, eager, local_targets, receiver: Receiver, committed):
    from datetime import UTC, datetime

    from django_tenants.utils import schema_context

    from common.signals import voicemail_left
    from pbx.actions import do_create_voicemail_box
    from pbx.models import VoicemailMessage

    hook = hook_for(tree, receiver, events=["voicemail.left"])
    box, _pin = do_create_voicemail_box(tree.c1, number="5000", name="Reception")
    with schema_context(tree.c1.schema_name):
        message = VoicemailMessage.objects.create(
            box=box, uuid="0b6d1a52-2f7e-4d4c-9d55-8c1c1f0a0001", caller_id_number="+14165550100",
            caller_id_name="Bob", created_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC), duration=12,
            file_path="/var/lib/freeswitch/storage/voicemail/x.wav")
    # As the voicemail actions send it: after the row commits, outside the tenant's
    # schema (the receiver reads the box in the account's schema itself).
    message = VoicemailMessage(pk=message.pk, box_id=box.pk, uuid=message.uuid,
                               caller_id_number=message.caller_id_number,
                               caller_id_name=message.caller_id_name, created_at=message.created_at,
                               duration=message.duration)
    with committed():
        voicemail_left.send(sender=VoicemailMessage, account=tree.c1, message=message)
    (request,) = receiver.wait_for(1)
    assert request.verified and request.headers["X-Switchboard-Event"] == "voicemail.left"
    assert request.document["data"] == {
        "message_id": message.pk, "message_uuid": "0b6d1a52-2f7e-4d4c-9d55-8c1c1f0a0001", "box": "5000",
        "box_name": "Reception", "caller_id_number": "+14165550100", "caller_id_name": "Bob",
        "duration": 12, "left_at": "2026-12-07T10:00:00+00:00"}
    assert WebhookDelivery.objects.get(webhook=hook).status == "delivered"
