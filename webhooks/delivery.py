"""Posting one delivery, and what happens after: delivered, retried later, or failed.

A try first *claims* the row (one UPDATE: still pending and due → its lease, the
attempt counted) and commits, so no transaction stays open across the HTTP request and
two workers never post the same try; the result is written after. A worker that dies
mid-try leaves the lease to run out, and the sweep (``webhooks.sweep``, Celery beat)
sends the row again. Redirects are not followed (a 3xx is a failed try: a redirect
could lead to an address the target check refused)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import uuid
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from webhooks import signing
from webhooks.models import Webhook, WebhookDelivery
from webhooks.targets import TargetRefused, resolve

log = logging.getLogger("webhooks.delivery")

USER_AGENT = "Switchboard-Webhooks/1"
TIMEOUT = 5.0
# Seconds before try 2, 3, ...: about 2 h 45 min from the first try to the last.
RETRY_DELAYS: tuple[float, ...] = (1, 5, 30, 120, 600, 1800, 3600, 3600)
# A claimed try that has not written its result by then is due again (the sweep).
LEASE_SECONDS = 60


def retry_delays() -> Sequence[float]:
    return tuple(getattr(settings, "WEBHOOKS_RETRY_DELAYS", RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


def timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT", TIMEOUT))


def body_of(delivery: WebhookDelivery) -> bytes:
    """What is posted: the same bytes for every try of the delivery."""
    document = {"id": str(delivery.event_id), "type": delivery.event,
                "created_at": delivery.created_at.isoformat(), "account_id": delivery.account_id,
                "data": delivery.payload}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _schedule(delivery_id: int, countdown: float = 0.0) -> None:
    if countdown and deliver_task.app.conf.task_always_eager:
        # Eagerly a countdown is ignored and the retry would run now, inside this try:
        # the row stays due at its time and the sweep sends it.
        return
    try:
        deliver_task.apply_async((delivery_id,), countdown=countdown or None)
    except Exception:
        # The broker is away: the row stays pending and due, and the sweep sends it.
        log.exception("webhook delivery %s not queued; the sweep will send it", delivery_id)


def schedule_on_commit(delivery_ids: Sequence[int]) -> None:
    for delivery_id in delivery_ids:
        transaction.on_commit(lambda pk=delivery_id: _schedule(pk))


def create_deliveries(account_id: int, event: str, payload: dict, *,
                      event_id: uuid.UUID | None = None) -> list[int]:
    """A pending delivery for each enabled webhook of the account that takes ``event``;
    queued once the caller's transaction commits (at once outside one). One query when
    the account has no such webhook, which is most calls."""
    hooks = list(Webhook.objects.filter(account_id=account_id, enabled=True, events__contains=[event])
                 .values_list("pk", flat=True))
    if not hooks:
        return []
    event_id = event_id or uuid.uuid4()
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(webhook_id=pk, account_id=account_id, event=event, event_id=event_id,
                        payload=payload, next_attempt_at=now)
        for pk in hooks])
    ids = [row.pk for row in rows]
    schedule_on_commit(ids)
    return ids


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        claimed = WebhookDelivery.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            pk=delivery_id, status=WebhookDelivery.Status.PENDING,
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address, with the URL's name as the TLS server name (SNI)
    and the name the certificate is verified against."""

    def __init__(self, address: str, port: int, server_hostname: str, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self.server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.server_hostname)


def post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One try: (HTTP status or None, error text; empty when it was a 2xx). The standard
    library's client: it follows no redirect, and it lets the connection go to the address
    the target check resolved while TLS still names (and verifies) the URL's host."""
    hook = delivery.webhook
    secret = hook.secret
    if secret is None:
        return None, "The webhook's secret cannot be decrypted (the encryption key changed)."
    try:
        target = resolve(hook.url)
    except TargetRefused as exc:
        return None, str(exc)
    body = body_of(delivery)
    headers = {
        "Host": target.host, "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Switchboard-Event": delivery.event, "X-Switchboard-Delivery": str(delivery.event_id),
        signing.HEADER: signing.header(secret, body),
    }
    parts = urlsplit(target.url)
    address = (parts.hostname or "").strip("[]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    seconds = timeout()
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(address, port, target.sni_hostname or address, seconds)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=seconds)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status_code = response.status
        location = response.getheader("Location", "")
        response.read(65536)  # a little of the answer, so the connection closes cleanly
    except TimeoutError:
        return None, f"No answer within {seconds:g} s."
    except ssl.SSLError as exc:
        return None, f"TLS: {exc}"[:500]
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        connection.close()
    if 200 <= status_code < 300:
        return status_code, ""
    if 300 <= status_code < 400:
        return status_code, f"HTTP {status_code}: redirects are not followed ({location})"[:500]
    return status_code, f"HTTP {status_code}"


def deliver(delivery_id: int) -> str:
    """Try the delivery if it is due; returns what became of it (for logs and tests)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not due"
    if not delivery.webhook.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
            last_error="The webhook was disabled before this delivery was made.")
        return "failed"
    status_code, error = post(delivery)
    now = timezone.now()
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=now, next_attempt_at=None,
            last_status_code=status_code, last_error="")
        return "delivered"
    delays = retry_delays()
    if delivery.attempts > len(delays):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
            last_status_code=status_code, last_error=error[:500])
        log.info("webhook delivery %s failed after %d tries: %s", delivery.pk, delivery.attempts, error)
        return "failed"
    delay = delays[delivery.attempts - 1]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=now + timedelta(seconds=delay), last_status_code=status_code,
        last_error=error[:500])
    _schedule(delivery.pk, countdown=delay)
    return "retrying"


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver_task(delivery_id: int) -> str:
    """One try (defined beside its work, like fsnodes.delivery.deliver_node_task: the
    retry it queues is this task again; webhooks.tasks registers it)."""
    return deliver(delivery_id)


def due(limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (a lost task, a lease run out)."""
    return list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                               next_attempt_at__lte=timezone.now())
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
