"""A secret made by a form is shown on the page the POST redirects to, once
(switchboard.views.once): a reload of that page makes nothing and shows nothing; the
token is good in the session that made it only."""

from __future__ import annotations

from tests.pbx.portal.conftest import World
from webhooks.models import Webhook

NEW_HOOK = {"url": "https://crm.example.com/calls", "events": ["call.ended"], "enabled": "on"}


def test_a_new_webhook_secret_is_shown_once_and_a_reload_makes_no_second_webhook(world: World):
    browser = world.browser("admin")
    before = Webhook.objects.filter(account=world.account).count()
    created = browser.post("/webhooks/add/", NEW_HOOK)
    assert created.status_code == 303
    shown = browser.get(created["Location"])
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    secret = shown.context["secret"]
    assert secret and secret in shown.content.decode()
    reloaded = browser.get(created["Location"])
    assert reloaded.status_code == 200 and secret not in reloaded.content.decode()
    assert Webhook.objects.filter(account=world.account).count() == before + 1


def test_a_rotated_webhook_secret_is_shown_once(world: World):
    browser = world.browser("admin")
    hook = Webhook.objects.filter(account=world.account).first()
    assert hook is not None
    rotated = browser.post(f"/webhooks/{hook.pk}/secret/")
    assert rotated.status_code == 303
    secret = browser.get(rotated["Location"]).context["secret"]
    assert secret
    assert secret not in browser.get(rotated["Location"]).content.decode()


def test_another_session_cannot_take_the_shown_secret(world: World):
    created = world.browser("admin").post("/webhooks/add/", NEW_HOOK)
    # The same person signed in elsewhere (another session) gets the form, not the secret.
    other = world.browser("admin").get(created["Location"])
    assert other.status_code == 200 and other.context.get("secret") is None
