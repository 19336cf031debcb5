"""Every phone of an extension rings (issue 12 defect 3): the dialplan lists each enabled
device on each of the tenant's domains as its own bridge leg (pbx.ringing), beside the
directed-pickup leg, whether the facts come from the public index or the schema. The
real switch shows the INVITEs (tests/freeswitch/test_calls.py)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context

from pbx.actions import do_add_device, do_create_ring_group, do_set_ring_group_members, do_update_device
from pbx.models import Device, Extension
from pbx.ringing import bracketed, phone_dial, phone_legs
from tenants.actions import do_set_domains
from tests.conftest import route_to
from tests.fsconf.test_routing import dial
from tests.ringing import ACME, phone_endpoints


def ext(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


def devices(account, number: str) -> list[Device]:
    with schema_context(account.schema_name):
        return list(Device.objects.filter(extension__number=number))


def pickup(account, number: str) -> str:
    return f"pickup/{account.schema_name}_extension_{ext(account, number).pk}"


@pytest.mark.parametrize("from_index", [True, False], ids=["index", "schema"])
def test_a_second_device_rings_beside_the_first_on_every_domain(acme_beta, from_index):
    acme = acme_beta.c1
    with override_settings(FSCONF_DIRECTORY_INDEX=from_index):
        do_add_device(acme, ext(acme, "1002"))
        bridge = dict(dial("1002"))["bridge"]
    assert bridge == ",".join([*phone_endpoints("1002", ["1002", "1002-2"], ACME), pickup(acme, "1002")])
    assert bridge.count("${sofia_contact(") == 4  # 2 devices x 2 domains
    assert "user/" not in bridge


def test_device_and_domain_changes_reach_the_next_call(acme_beta, committed):
    """The answer is cached per tenant: a device added or disabled, or a domain added,
    invalidates it when the write commits (every PBX write and account change does)."""
    acme = acme_beta.c1
    assert "1002-2" not in dict(dial("1002"))["bridge"]
    with committed():
        second = do_add_device(acme, ext(acme, "1002"))[0]
    assert "sofia_contact(*/1002-2@acme.localhost)" in dict(dial("1002"))["bridge"]
    with committed():
        do_update_device(acme, second, enabled=False)
    assert "1002-2" not in dict(dial("1002"))["bridge"]
    with committed():
        do_set_domains(acme_beta.user("r1_admin"), acme, primary="acme.example.net",
                       aliases=["acme.localhost", "pbx.acme.test"])
    assert "sofia_contact(*/1002@pbx.acme.test)" in dict(dial("1002"))["bridge"]


def test_an_extension_without_devices_rings_one_leg_that_is_not_registered(acme_beta):
    """Its bridge fails at once as not registered beside the pickup leg: the
    not-registered forward applies (pbx.routing.DISPOSITIONS, NO_PICKUP)."""
    acme = acme_beta.c1
    for device in devices(acme, "1002"):
        do_update_device(acme, device, enabled=False)
    assert dict(dial("1002"))["bridge"] == (
        "[dialed_user=1002,dialed_domain=acme.example.net,presence_id=1002@acme.example.net]"
        f"error/user_not_registered,{pickup(acme, '1002')}")


def test_a_ring_group_member_with_two_devices_rings_both_beside_the_group_pickup(acme_beta):
    acme = acme_beta.c1
    do_add_device(acme, ext(acme, "1002"))
    group = do_create_ring_group(acme, number="2000", name="Sales", ring_seconds=15, pickup_code="*82000")
    do_set_ring_group_members(acme, group, [(route_to(acme, "extension", "1002"), None, True)])
    group_pickup = f"pickup/{acme.schema_name}_ring_group_{group.pk}"
    legs = [*phone_endpoints("1002", ["1002", "1002-2"], ACME), group_pickup]
    assert dict(dial("2000"))["bridge"] == ",".join(f"[leg_timeout=15]{leg}" for leg in legs)


def test_phone_legs_spell_out_what_the_user_endpoint_set():
    assert phone_legs("1005", ["1005", "1005-2"], ["a.example.net", "a.localhost"])[1] == (
        "${sofia_contact(*/1005@a.localhost)}",
        {"dialed_user": "1005", "dialed_domain": "a.example.net", "presence_id": "1005@a.example.net",
         "sip_invite_domain": "a.localhost"})
    assert phone_dial("7", ["7"], ["x.test"]) == [
        "[dialed_user=7,dialed_domain=x.test,presence_id=7@x.test,sip_invite_domain=x.test]"
        "${sofia_contact(*/7@x.test)}"]


def test_phone_legs_refuse_what_would_break_the_dial_string():
    with pytest.raises(ValueError, match="SIP domains"):
        phone_legs("1005", ["1005"], [])
    for bad in ("a,b", "a]b", "a|b", "${x}"):
        with pytest.raises(ValueError, match="cannot hold"):
            bracketed("sofia/internal/x", {"presence_id": bad})
