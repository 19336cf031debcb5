"""Voicemail boxes in the portal: a new box's PIN and a reset PIN shown once; a box an
extension still uses is not deleted, in the action's words."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import VoicemailBox
from tests.pbx.portal.conftest import World


def test_a_new_box_shows_its_pin_once(world: World):
    browser = world.browser("admin")
    created = browser.post("/voicemail/add/", {"number": "5001", "name": "Sales box", "enabled": "on",
                                               "keep_days": "30"})
    assert created.status_code == 303  # to the page showing the PIN once
    response = browser.get(created["Location"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    with schema_context(world.account.schema_name):
        box = VoicemailBox.objects.get(number="5001")
    assert response.context["pin"] == box.pin and box.pin in response.content.decode()
    assert box.pin not in browser.get(f"/voicemail/{box.pk}/").content.decode()
    # A reload of the shown page shows the empty form again: no PIN, no second attempt.
    reloaded = browser.get(created["Location"])
    assert reloaded.status_code == 200 and box.pin not in reloaded.content.decode()


def test_a_reset_gives_a_new_pin(world: World):
    old = world.box.pin
    browser = world.browser("admin")
    reset = browser.post(f"/voicemail/{world.box.pk}/pin/")
    assert reset.status_code == 303
    response = browser.get(reset["Location"])
    with schema_context(world.account.schema_name):
        stored = VoicemailBox.objects.get(pk=world.box.pk).pin
    assert response.context["pin"] == stored != old
    # Reloading asks again instead of making yet another PIN.
    again = browser.get(reset["Location"])
    assert stored not in again.content.decode()
    with schema_context(world.account.schema_name):
        assert VoicemailBox.objects.get(pk=world.box.pk).pin == stored


def test_an_extensions_box_is_kept_while_the_extension_uses_it(world: World):
    with schema_context(world.account.schema_name):
        box = VoicemailBox.objects.get(extension=world.extension)
    response = world.browser("admin").post(f"/voicemail/{box.pk}/delete/")
    assert response.status_code == 409
    assert "Extension 1001 sends unanswered calls to this box: turn its voicemail off first." in \
        response.content.decode()
