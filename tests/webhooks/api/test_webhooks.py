"""Webhooks and their delivery log through the API (webhooks/api/views.py): the
generated per-object tests, the secret shown once, rotate, the log and redeliver, and
another tenant's webhook and delivery ids answering 404 with nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

from django.forms.models import model_to_dict

from tenants.models import Account, AuditEvent
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests
from webhooks import signing
from webhooks.actions import do_create_webhook
from webhooks.models import Webhook, WebhookDelivery


def deliveries_url(account: Account | int, hook: int, *rest: Any) -> str:
    return accounts_url(account, "webhooks", hook, "deliveries", *rest)


def delivery(hook: Webhook, event: str = "call.ended", **fields: Any) -> WebhookDelivery:
    defaults = {"status": "failed", "attempts": 9, "last_status_code": 500, "last_error": "HTTP 500"}
    return WebhookDelivery.objects.create(webhook=hook, account=hook.account, event=event,
                                          event_id=uuid.uuid4(), payload={"call_uuid": "c-1"},
                                          **{**defaults, **fields})


class TestWebhooksApi(ObjectApiTests):
    basename = "webhook"
    extra_routes = ("webhook-rotate-secret",)
    path = "webhooks"
    model = Webhook
    audit_name = "webhook"
    create_data = {"url": "https://crm.example.com/hooks/switchboard", "events": ["call.ended"],
                   "description": "CRM"}
    update_data = {"enabled": False, "description": "CRM (paused)", "events": ["call.started", "call.ended"]}
    # A private address is refused by the action (SSRF), as a field error.
    invalid_data = {"url": "http://169.254.169.254/latest/meta-data/"}
    invalid_field = "url"
    list_queries = 8

    def make(self, account: Account, index: int) -> Webhook:
        hook, _secret = do_create_webhook(account, actor=None, url=f"https://hooks{index}.example.com/x")
        return hook

    def rows(self, account: Account) -> list[dict[str, Any]]:
        return [model_to_dict(row) for row in Webhook.objects.filter(account=account).order_by("pk")]

    def test_the_secret_is_shown_once_and_rotating_changes_it(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        created = api.send("post", accounts_url(tree.c1, "webhooks"), {"url": "https://crm.example.com/h"})
        assert created.status_code == 201, body(created)
        secret = body(created)["secret"]
        assert secret.startswith(signing.SECRET_PREFIX) and len(secret) > 40
        # Every event when none is named.
        assert body(created)["events"] == ["call.started", "call.answered", "call.ended", "voicemail.left"]
        url = accounts_url(tree.c1, "webhooks", body(created)["id"])
        for shown in (api.send("get", url), api.send("get", accounts_url(tree.c1, "webhooks"))):
            assert secret not in shown.content.decode() and "secret" not in shown.content.decode()
        rotated = api.send("post", f"{url}rotate-secret/")
        assert rotated.status_code == 200 and body(rotated)["secret"] not in ("", secret)
        assert Webhook.objects.get(pk=body(created)["id"]).secret == body(rotated)["secret"]
        event = AuditEvent.objects.get(action="webhook.rotate_secret")
        assert secret not in str(event.details) and body(rotated)["secret"] not in str(event.details)
        readonly = Api(token=key_for(tree.user("r1_readonly")))
        assert readonly.send("post", f"{url}rotate-secret/").status_code == 403
        assert Webhook.objects.get(pk=body(created)["id"]).secret == body(rotated)["secret"]

    def test_unknown_events_and_other_schemes_are_field_errors(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        for data, field in (({"url": "https://a.example.com", "events": ["call.exploded"]}, "events"),
                            ({"url": "https://a.example.com", "events": []}, "events"),
                            ({"url": "file:///etc/passwd"}, "url"),
                            ({"url": "http://[::1]:8080/x"}, "url")):
            refused = api.send("post", accounts_url(tree.c1, "webhooks"), data)
            assert refused.status_code == 400 and field in body(refused), (data, body(refused))
        assert not Webhook.objects.exists()


class TestWebhookDeliveriesApi:
    covered_routes = ("webhook-delivery-list", "webhook-delivery-detail", "webhook-delivery-redeliver")

    def test_the_log_lists_newest_first_and_redeliver_makes_a_new_row_for_the_same_event(self, tree: Tree):
        hook, _ = do_create_webhook(tree.c1, actor=None, url="https://crm.example.com/h")
        first = delivery(hook, "call.started", status="delivered", last_status_code=200, last_error="")
        second = delivery(hook)
        api = Api(token=key_for(tree.user("c1_admin")))
        listed = api.send("get", deliveries_url(tree.c1, hook.pk))
        assert listed.status_code == 200
        assert [d["id"] for d in body(listed)["results"]] == [second.pk, first.pk]
        shown = body(api.send("get", deliveries_url(tree.c1, hook.pk, second.pk)))
        assert (shown["status"], shown["attempts"], shown["last_error"]) == ("failed", 9, "HTTP 500")
        failed_only = api.send("get", deliveries_url(tree.c1, hook.pk) + "?status=failed")
        assert [d["id"] for d in body(failed_only)["results"]] == [second.pk]
        again = api.send("post", deliveries_url(tree.c1, hook.pk, second.pk, "redeliver"))
        assert again.status_code == 202, body(again)
        row = WebhookDelivery.objects.get(pk=body(again)["id"])
        assert (row.status, row.attempts, row.event_id, row.payload) == (
            "pending", 0, second.event_id, second.payload)
        event = AuditEvent.objects.get(action="webhook.redeliver")
        assert (event.account_id, event.actor_id, event.ip) == (tree.c1.pk, tree.user("c1_admin").pk,
                                                                "127.0.0.1")

    def test_read_only_reads_the_log_and_cannot_redeliver(self, tree: Tree):
        hook, _ = do_create_webhook(tree.c1, actor=None, url="https://crm.example.com/h")
        row = delivery(hook)
        for token in (key_for(tree.user("r1_readonly")), key_for(tree.user("c1_admin"), read_only=True)):
            api = Api(token=token)
            assert api.send("get", deliveries_url(tree.c1, hook.pk)).status_code == 200
            assert api.send("post", deliveries_url(tree.c1, hook.pk, row.pk, "redeliver")).status_code == 403
        assert WebhookDelivery.objects.count() == 1

    def test_another_tenants_webhook_and_delivery_ids_are_404_like_missing_ones(self, tree: Tree):
        victim_hook, _ = do_create_webhook(tree.c1, actor=None, url="https://crm.example.com/h")
        victim = delivery(victim_hook)
        own_hook, _ = do_create_webhook(tree.c2, actor=None, url="https://c2.example.com/h")
        before = list(WebhookDelivery.objects.order_by("pk").values())
        api = Api(token=key_for(tree.user("c2_admin")))
        missing = api.send("get", deliveries_url(tree.c2, own_hook.pk, 987654))
        assert missing.status_code == 404
        for method, url in (
            ("get", deliveries_url(tree.c1, victim_hook.pk)),
            ("get", deliveries_url(tree.c1, victim_hook.pk, victim.pk)),
            ("post", deliveries_url(tree.c1, victim_hook.pk, victim.pk, "redeliver")),
            # On C2's own path: C1's webhook, and C1's delivery under C2's own webhook.
            ("get", deliveries_url(tree.c2, victim_hook.pk)),
            ("post", deliveries_url(tree.c2, victim_hook.pk, victim.pk, "redeliver")),
            ("get", deliveries_url(tree.c2, own_hook.pk, victim.pk)),
            ("post", deliveries_url(tree.c2, own_hook.pk, victim.pk, "redeliver")),
        ):
            refused = api.send(method, url)
            assert (refused.status_code, body(refused)) == (404, body(missing)), (method, url)
        assert list(WebhookDelivery.objects.order_by("pk").values()) == before
        assert not AuditEvent.objects.filter(action="webhook.redeliver").exists()
