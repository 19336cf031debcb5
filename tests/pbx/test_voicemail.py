"""Voicemail boxes from the administrator's side: standalone boxes, PIN rules, greetings,
retention limits, what deleting is refused for, an extension's box across voicemail off
and on, and one tenant's boxes never reachable from another."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from lxml import etree

from pbx.actions import (
    do_create_extension,
    do_create_voicemail_box,
    do_delete_voicemail_box,
    do_set_voicemail_pin,
    do_update_extension,
    do_update_voicemail_box,
)
from pbx.models import MediaStatus, Prompt, VoicemailBox
from pbx.models.voicemail import weak_pin_reason
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tenants.models import AuditEvent
from tests.pbx.routing_helpers import extension, refused


def box_in(account, number: str) -> VoicemailBox:
    with schema_context(account.schema_name):
        return VoicemailBox.objects.select_related("extension").get(number=number)


def prompt_in(account, name: str, status: str = MediaStatus.READY) -> Prompt:
    with schema_context(account.schema_name):
        return Prompt.objects.create(name=name, status=status)


def test_a_standalone_box_gets_a_strong_pin_that_the_audit_never_holds(tree):
    box, pin = do_create_voicemail_box(tree.c1, number="8000", name="Sales mailbox",
                                       email="sales@example.com", actor=tree.user("c1_admin"))
    assert box.extension is None and box_in(tree.c1, "8000").pin == pin
    assert weak_pin_reason(pin, "8000") is None
    event = AuditEvent.objects.get(action="voicemail.create", account=tree.c1)
    assert event.details == {"number": "8000", "name": "Sales mailbox"}
    assert pin not in str(event.details)


@pytest.mark.parametrize("pin, message", [
    ("123", "4 to 10 digits"),
    ("12a4", "4 to 10 digits"),
    ("12345678901", "4 to 10 digits"),
    ("8000", "box number"),
    ("7777", "one digit repeated"),
    ("1234", "straight run"),
    ("4321", "straight run"),
    ("0123456789", "straight run"),
    ("987654", "straight run"),
])
def test_weak_pins_are_refused_with_a_reason(tree, pin, message):
    with refused("pin") as result:
        do_create_voicemail_box(tree.c1, number="8000", name="Sales", pin=pin)
    assert message in result.messages[0]
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales", pin="2580")
    with refused("pin") as result:
        do_set_voicemail_pin(tree.c1, box, pin=pin)
    assert message in result.messages[0]
    assert box_in(tree.c1, "8000").pin == "2580"


def test_pin_reset_and_change(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    _, second = do_set_voicemail_pin(tree.c1, box)
    assert weak_pin_reason(second, "8000") is None and box_in(tree.c1, "8000").pin == second
    _, chosen = do_set_voicemail_pin(tree.c1, box, pin="13579")
    assert chosen == box_in(tree.c1, "8000").pin == "13579"
    assert AuditEvent.objects.filter(action="voicemail.pin", account=tree.c1).count() == 2
    assert "13579" not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_a_box_cannot_take_another_extensions_number_or_a_device_username(tree):
    from pbx.actions import do_add_device

    person = extension(tree.c1, "1001")
    do_add_device(tree.c1, person, username="7001")
    with refused("number") as result:
        do_create_voicemail_box(tree.c1, number="1001", name="Shadow")
    assert "extension" in result.messages[0]
    with refused("number") as result:
        do_create_voicemail_box(tree.c1, number="7001", name="Shadow")
    assert "SIP username" in result.messages[0]
    do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    with refused("number"):
        do_create_voicemail_box(tree.c1, number="8000", name="Twice")
    # Nor the other way round: the extension's box would take the number.
    with refused("number"):
        do_create_extension(tree.c1, number="8000", name="Latecomer")
    # The same numbers are free in another tenant.
    do_create_voicemail_box(tree.c2, number="1001", name="Beta general box")


def test_renumbering_a_standalone_box_checks_the_plan_but_an_extension_box_keeps_its_number(tree):
    extension(tree.c1, "1001")
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    with refused("number"):
        do_update_voicemail_box(tree.c1, box, number="1001")
    do_update_voicemail_box(tree.c1, box, number="8001")
    assert box_in(tree.c1, "8001").pk == box.pk
    with refused("number"):
        do_update_voicemail_box(tree.c1, box_in(tree.c1, "1001"), number="8002")


def test_keep_days_is_at_most_180(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    with refused("keep_days"):
        do_update_voicemail_box(tree.c1, box, keep_days=181)
    with refused("keep_days"):
        do_update_voicemail_box(tree.c1, box, keep_days=0)
    do_update_voicemail_box(tree.c1, box, keep_days=180)
    assert box_in(tree.c1, "8000").keep_days == 180


def test_delete_after_email_needs_an_email_address(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    with refused("delete_after_email"):
        do_update_voicemail_box(tree.c1, box, delete_after_email=True)
    do_update_voicemail_box(tree.c1, box, email="sales@example.com", delete_after_email=True)


def test_greetings_are_the_tenants_ready_prompts(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    converting = prompt_in(tree.c1, "Still converting", MediaStatus.PENDING)
    with refused("greeting_unavailable") as result:
        do_update_voicemail_box(tree.c1, box, greeting_unavailable=converting)
    assert "not ready" in result.messages[0]
    ready = prompt_in(tree.c1, "Out of office")
    do_update_voicemail_box(tree.c1, box, greeting_unavailable=ready, greeting_busy=ready.pk)
    with schema_context(tree.c1.schema_name):
        stored = VoicemailBox.objects.get(pk=box.pk)
        assert stored.greeting_unavailable_id == stored.greeting_busy_id == ready.pk
    # Clearing one leaves the other.
    do_update_voicemail_box(tree.c1, box, greeting_busy=None)
    with schema_context(tree.c1.schema_name):
        stored = VoicemailBox.objects.get(pk=box.pk)
        assert stored.greeting_busy_id is None and stored.greeting_unavailable_id == ready.pk


def test_a_prompt_of_another_tenant_cannot_be_a_greeting(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    theirs = prompt_in(tree.c2, "Beta's greeting")
    with schema_context(tree.c1.schema_name):
        assert not Prompt.objects.filter(pk=theirs.pk).exists()
    with refused("greeting_name"):
        do_update_voicemail_box(tree.c1, box, greeting_name=theirs.pk)


def test_delete_is_refused_while_a_phone_number_routes_to_the_box(tree):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    (number,) = do_import_numbers(tree.user("master_admin"), ["+14165550177"])
    do_assign_number(tree.user("master_admin"), number, tree.r1)
    number = do_assign_number(tree.user("r1_admin"), number, tree.c1)
    number = do_route_number(tree.c1, number, route=f"voicemail:{box.pk}")
    with refused() as result:
        do_delete_voicemail_box(tree.c1, box)
    assert "+14165550177" in result.messages[0]
    assert box_in(tree.c1, "8000")
    do_route_number(tree.c1, number, route="")
    do_delete_voicemail_box(tree.c1, box, actor=tree.user("c1_admin"))
    with schema_context(tree.c1.schema_name):
        assert not VoicemailBox.objects.filter(number="8000").exists()
    assert AuditEvent.objects.filter(action="voicemail.delete", account=tree.c1).exists()


def test_voicemail_off_keeps_the_box_and_on_again_reuses_it(tree):
    person = extension(tree.c1, "1001", voicemail_pin="246810")
    box = box_in(tree.c1, "1001")
    assert box.extension.pk == person.pk and box.pin == "246810"
    with refused():
        do_delete_voicemail_box(tree.c1, box)  # its extension still sends calls there
    do_update_extension(tree.c1, person, voicemail_enabled=False)
    assert box_in(tree.c1, "1001").pk == box.pk
    do_update_extension(tree.c1, person, voicemail_enabled=True)
    again = box_in(tree.c1, "1001")
    assert (again.pk, again.pin) == (box.pk, "246810")
    with refused("voicemail_pin"):
        do_update_extension(tree.c1, person, voicemail_pin="1111")
    do_update_extension(tree.c1, person, voicemail_pin="97531", name="Renamed")
    again = box_in(tree.c1, "1001")
    assert (again.pin, again.name) == ("97531", "Renamed")


def test_an_extension_created_without_voicemail_gets_a_box_when_it_is_turned_on(tree):
    person = do_create_extension(tree.c1, number="1002", name="Quiet", voicemail_enabled=False)
    with schema_context(tree.c1.schema_name):
        assert not VoicemailBox.objects.exists()
    do_update_extension(tree.c1, person, voicemail_enabled=True)
    assert weak_pin_reason(box_in(tree.c1, "1002").pin, "1002") is None


def test_another_tenants_box_cannot_be_changed_or_deleted(tree):
    theirs, _ = do_create_voicemail_box(tree.c2, number="8000", name="Beta", pin="2580")
    with pytest.raises(VoicemailBox.DoesNotExist):
        do_set_voicemail_pin(tree.c1, theirs, pin="97531")
    with pytest.raises(VoicemailBox.DoesNotExist):
        do_delete_voicemail_box(tree.c1, theirs)
    assert box_in(tree.c2, "8000").pin == "2580"


def test_tenant_b_box_is_never_served_for_tenant_a(tree, settings):
    from tests.fsconf.replay import CAPTURE_CREDENTIALS, Captured, replay, request

    settings.FREESWITCH_GATEWAY_CREDENTIALS = CAPTURE_CREDENTIALS
    do_create_voicemail_box(tree.c2, number="8000", name="Beta", pin="2580")
    captured = request("directory-voicemail-lookup-acme-1001")

    def lookup(domain: bytes) -> etree._Element:
        body = captured.body.replace(b"acme.example.net", domain).replace(b"user=1001", b"user=8000")
        return etree.fromstring(replay(Captured(captured.name, "POST", "/", captured.headers, body)).content)

    assert lookup(b"c1.example.net").find(".//result").get("status") == "not found"
    served = lookup(b"c2.example.net")
    assert served.find(".//user").get("id") == "8000"
    assert served.find(".//domain").get("name") == "c2.example.net"
