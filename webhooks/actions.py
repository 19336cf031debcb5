"""The only writers of webhooks (conventions: one argument shape, the role check here,
every write audited). A webhook's secret is made here and returned once, by
``do_create_webhook`` and ``do_rotate_webhook_secret``; nothing shows it afterwards."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pbx.actions.common import only
from pbx.actions.crud import authorize
from tenants.actions import record
from tenants.models import Account, User
from webhooks import signing
from webhooks.delivery import schedule_on_commit
from webhooks.models import Event, Webhook, WebhookDelivery
from webhooks.targets import TargetRefused, check_url

WEBHOOK_FIELDS = ("url", "description", "events", "enabled")
MAX_WEBHOOKS_PER_ACCOUNT = 20


def _apply(hook: Webhook, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "events":
            value = list(dict.fromkeys(value or ()))
        setattr(hook, name, value)
    errors: dict[str, list[str]] = {}
    try:
        check_url(hook.url)
    except TargetRefused as exc:
        errors["url"] = [str(exc)]
    unknown = sorted(set(hook.events) - set(Event.values))
    if unknown:
        errors["events"] = [f"Unknown event {', '.join(unknown)}; choose from {', '.join(Event.values)}."]
    elif not hook.events:
        errors["events"] = ["Choose at least one event."]
    if errors:
        raise ValidationError(errors)
    hook.full_clean(exclude=["account", "secret_encrypted"])


@transaction.atomic
def do_create_webhook(account: Account, *, actor: User | None, ip: str | None = None,
                      **fields: Any) -> tuple[Webhook, str]:
    """The webhook and its secret (shown once)."""
    authorize(actor, account)
    only(fields, WEBHOOK_FIELDS)
    # One account's webhooks are counted under a lock on the account row.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if Webhook.objects.filter(account=account).count() >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise ValidationError({"url": [f"An account has at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks."]})
    hook = Webhook(account=account)
    _apply(hook, {"events": list(Event.values), **fields})
    secret = signing.new_secret()
    hook.set_secret(secret)
    hook.save()
    record(actor, account, "webhook.create", ip=ip, url=hook.url, events=hook.events)
    return hook, secret


@transaction.atomic
def do_update_webhook(account: Account, hook: Webhook, *, actor: User | None, ip: str | None = None,
                      **fields: Any) -> Webhook:
    authorize(actor, account)
    only(fields, WEBHOOK_FIELDS)
    hook = Webhook.objects.select_for_update().get(pk=hook.pk, account=account)
    _apply(hook, fields)
    hook.save()
    record(actor, account, "webhook.update", ip=ip, url=hook.url, fields=sorted(fields))
    return hook


@transaction.atomic
def do_delete_webhook(account: Account, hook: Webhook, *, actor: User | None, ip: str | None = None) -> None:
    authorize(actor, account)
    hook = Webhook.objects.select_for_update().get(pk=hook.pk, account=account)
    record(actor, account, "webhook.delete", ip=ip, url=hook.url)
    hook.delete()


@transaction.atomic
def do_rotate_webhook_secret(account: Account, hook: Webhook, *, actor: User | None,
                             ip: str | None = None) -> tuple[Webhook, str]:
    """A new secret (shown once); deliveries from now on are signed with it."""
    authorize(actor, account)
    hook = Webhook.objects.select_for_update().get(pk=hook.pk, account=account)
    secret = signing.new_secret()
    hook.set_secret(secret)
    hook.save(update_fields=["secret_encrypted", "updated_at"])
    record(actor, account, "webhook.rotate_secret", ip=ip, url=hook.url)
    return hook, secret


@transaction.atomic
def do_redeliver(account: Account, delivery: WebhookDelivery, *, actor: User | None,
                 ip: str | None = None) -> WebhookDelivery:
    """Send a delivery again (failed, delivered, or waiting for a retry): a new log row
    with the same event id and payload, so the receiver can tell it is the same event."""
    authorize(actor, account)
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery.pk, account=account)
    if not delivery.webhook.enabled:
        raise ValidationError({"webhook": ["Enable the webhook before sending to it again."]})
    again = WebhookDelivery.objects.create(
        webhook=delivery.webhook, account=account, event=delivery.event, event_id=delivery.event_id,
        payload=delivery.payload, next_attempt_at=timezone.now())
    record(actor, account, "webhook.redeliver", ip=ip, url=delivery.webhook.url,
           delivery=delivery.pk, event=delivery.event)
    schedule_on_commit([again.pk])
    return again


__all__ = ["do_create_webhook", "do_delete_webhook", "do_redeliver", "do_rotate_webhook_secret",
           "do_update_webhook"]
