"""Extensions and devices in the portal: search, the actions' errors on the fields, the
SIP secret shown once, a device's own page, forwarding through the destination picker."""

from __future__ import annotations

from django_tenants.utils import schema_context

from common.secrets import decrypt_secret
from pbx.models import Device, Extension
from tenants.models import AuditEvent
from tests.pbx.portal.conftest import World
from tests.pbx.portal.test_pages import extension_data


def test_search_narrows_the_list_and_htmx_gets_the_table_only(world: World):
    browser = world.browser("admin")
    page = browser.get("/extensions/?q=alice").content.decode()
    assert "Alice Archer" in page and "Bob Baker" not in page and "<html" in page
    table = browser.get("/extensions/?q=baker", HTTP_HX_REQUEST="true").content.decode()
    assert "Bob Baker" in table and "Alice Archer" not in table
    assert "<html" not in table and "<table" in table


def test_a_taken_number_is_shown_on_the_number_field(world: World):
    response = world.browser("admin").post("/extensions/add/", extension_data("2000", "Clash"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["number"]
    assert "2000" in errors["number"][0]
    with schema_context(world.account.schema_name):
        assert not Extension.objects.filter(name="Clash").exists()


def test_forwarding_and_dnd_are_set_with_the_picker(world: World):
    data = {**extension_data("1001", "Alice Archer"), "do_not_disturb": "on", "forward_busy": "on",
            "forward_busy_to_kind": "ring_group", "forward_busy_to_object": f"ring_group:{world.group.pk}"}
    response = world.browser("admin").post(f"/extensions/{world.extension.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(world.account.schema_name):
        extension = Extension.objects.get(pk=world.extension.pk)
    assert extension.do_not_disturb and extension.forward_busy
    assert extension.forward_busy_to == f"ring_group:{world.group.pk}"
    page = world.browser("admin").get(f"/extensions/{world.extension.pk}/").content.decode()
    assert f'<option value="ring_group:{world.group.pk}" selected>' in page


def test_an_object_of_another_kind_is_no_choice(world: World):
    """A stale object select (kind changed without htmx) is refused with the model's words."""
    data = {**extension_data("1001", "Alice Archer"), "forward_all": "on",
            "forward_all_to_kind": "ring_group", "forward_all_to_object": f"extension:{world.spare.pk}"}
    response = world.browser("admin").post(f"/extensions/{world.extension.pk}/", data)
    assert response.status_code == 400
    assert "Choose which ring group calls go to." in response.context["form"].errors["forward_all_to"]


def test_deleting_a_used_extension_is_refused_with_its_users(world: World):
    response = world.browser("admin").post(f"/extensions/{world.extension.pk}/delete/")
    assert response.status_code == 409
    body = response.content.decode()
    assert "Ring group 2000 Sales" in body
    with schema_context(world.account.schema_name):
        assert Extension.objects.filter(pk=world.extension.pk).exists()


def test_a_new_device_secret_is_shown_once(world: World):
    browser = world.browser("admin")
    added = browser.post(f"/extensions/{world.spare.pk}/devices/add/", {"label": "Softphone"})
    # The POST redirects to the page that shows the secret: a reload there sends nothing.
    assert added.status_code == 303
    shown_url = added["Location"]
    response = browser.get(shown_url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    with schema_context(world.account.schema_name):
        device = Device.objects.get(extension=world.spare)
    assert device.username == "1002" and decrypt_secret(device.secret_encrypted) == secret
    assert secret in response.content.decode()
    assert secret not in browser.get(f"/extensions/{world.spare.pk}/").content.decode()
    # Reloading the shown page: the secret is gone, and no second device was made.
    reloaded = browser.get(shown_url)
    assert reloaded.status_code == 200 and secret not in reloaded.content.decode()
    assert "secret" not in reloaded.context or reloaded.context.get("secret") is None
    with schema_context(world.account.schema_name):
        assert Device.objects.filter(extension=world.spare).count() == 1


def test_regenerating_replaces_the_secret(world: World):
    with schema_context(world.account.schema_name):
        old = decrypt_secret(Device.objects.get(pk=world.device.pk).secret_encrypted)
    browser = world.browser("admin")
    rotated = browser.post(f"/devices/{world.device.pk}/secret/")
    assert rotated.status_code == 303
    response = browser.get(rotated["Location"])
    new = response.context["secret"]
    assert browser.get(rotated["Location"]).context.get("secret") is None  # shown once
    with schema_context(world.account.schema_name):
        stored = decrypt_secret(Device.objects.get(pk=world.device.pk).secret_encrypted)
    assert new != old and stored == new


def test_a_device_is_edited_on_its_own_page_and_keeps_its_secret(world: World):
    with schema_context(world.account.schema_name):
        secret = Device.objects.get(pk=world.device.pk).secret_encrypted
    browser = world.browser("admin")
    page = browser.get(f"/extensions/{world.extension.pk}/").content.decode()
    assert f'href="/devices/{world.device.pk}/"' in page  # the username links to it
    response = browser.post(f"/devices/{world.device.pk}/", {"label": "Lobby phone", "vendor": "Yealink",
                                                            "mac_address": "00:15:65:aa:bb:cc"})
    assert response.status_code == 302 and response["Location"] == f"/extensions/{world.extension.pk}/"
    with schema_context(world.account.schema_name):
        device = Device.objects.get(pk=world.device.pk)
    assert (device.label, device.vendor, device.enabled, device.secret_encrypted) == (
        "Lobby phone", "Yealink", False, secret)  # unticked: turned off; the secret kept
    event = AuditEvent.objects.filter(action="device.update").latest("pk")
    assert event.actor == world.people["admin"] and "enabled" in str(event.details)
    # A MAC address too long is refused on its field.
    refused = browser.post(f"/devices/{world.device.pk}/", {"label": "x", "mac_address": "0" * 18})
    assert refused.status_code == 400 and "mac_address" in refused.context["form"].errors
    page = world.browser("read_only").get(f"/devices/{world.device.pk}/").content.decode()
    assert "Lobby phone" in page and "Read only" in page and ">Save<" not in page


def test_read_only_sees_a_disabled_form(world: World):
    response = world.browser("read_only").get(f"/extensions/{world.extension.pk}/")
    form = response.context["form"]
    assert form.fields and all(field.disabled for field in form.fields.values())
    body = response.content.decode()
    assert "Read only: your role cannot change this." in body and 'type="submit">Save' not in body
