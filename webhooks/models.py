"""Webhooks: an account's HTTP endpoints told of its calls and voicemail (docs/webhooks.md).

Both tables are in the public schema, keyed by account like phone numbers: the node
manager's events name an account id, and one query finds its webhooks without entering
a tenant schema. A delivery row is written per (webhook, event) when the event happens
and is the log the portal and the API show; the Celery task ``webhooks.deliver`` posts it
and reschedules it with backoff until it is delivered or out of attempts."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from common.secrets import decrypt_secret, encrypt_secret


class Event(models.TextChoices):
    CALL_STARTED = "call.started", "Call started"
    CALL_ANSWERED = "call.answered", "Call answered"
    CALL_ENDED = "call.ended", "Call ended"
    VOICEMAIL_LEFT = "voicemail.left", "Voicemail left"


class Webhook(models.Model):
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=20, choices=Event.choices), default=list)
    enabled = models.BooleanField(default=True)
    # Fernet token (common.secrets): the plaintext is needed to sign every delivery, so
    # it cannot be a hash; it is shown once, when made.
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["account", "enabled"], name="webhooks_account_enabled")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str | None:
        """The plaintext, or None if it was encrypted with a key no longer configured."""
        return decrypt_secret(self.secret_encrypted)

    def set_secret(self, plaintext: str) -> None:
        self.secret_encrypted = encrypt_secret(plaintext)


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for its first try or a retry
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"  # out of attempts (a redeliver starts it again)

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # The webhook's account, kept on the row so the log is scoped without a join.
    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=20, choices=Event.choices)
    # The receiver's idempotency key: the same for every attempt and for a redelivery.
    event_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["webhook", "-id"], name="webhooks_delivery_log"),
            # The sweep's due rows only.
            models.Index(fields=["next_attempt_at"], name="webhooks_delivery_due",
                         condition=models.Q(status="pending")),
            # The retention's purge (webhooks.retention): the oldest rows first.
            models.Index(fields=["created_at"], name="webhooks_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"
