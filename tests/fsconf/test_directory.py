"""section=directory answered from the PBX model, checked against the captures."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from lxml import etree

from common.secrets import a1_hash
from pbx.actions import do_add_device, do_create_extension, do_update_extension
from pbx.models import Extension, VoicemailBox
from tenants.actions import do_suspend_account
from tests.fsconf.replay import Captured, replay, request, response


def user_of(content: bytes) -> tuple[etree._Element, dict, dict]:
    root = etree.fromstring(content)
    user = root.find(".//user")
    params = {p.get("name"): p.get("value") for p in user.findall("params/param")}
    variables = {v.get("name"): v.get("value") for v in user.findall("variables/variable")}
    return root, params, variables


def test_register_gets_the_captured_a1_hash(acme_beta):
    result = replay(request("directory-sip_auth-register-acme-1001-a1hash-ok"))
    _, captured_params, _ = user_of(
        response("directory-sip_auth-register-acme-1001-a1hash-ok").body)
    root, params, variables = user_of(result.content)
    assert params["a1-hash"] == captured_params["a1-hash"] == "9bcf5cfe424c1e0576525611cbbd6e4f"
    assert "password" not in params  # the hash serves: never the plaintext
    assert root.find(".//domain").get("name") == "acme.example.net"
    assert variables["user_context"] == "acme.example.net"
    assert (variables["effective_caller_id_name"], variables["effective_caller_id_number"]) == (
        "Acme 1001", "1001")


def test_wrong_password_gets_the_same_document(acme_beta):
    """FreeSWITCH checks the digest itself; the two requests are indistinguishable."""
    ok = replay(request("directory-sip_auth-register-acme-1001-a1hash-ok")).content
    wrong = replay(request("directory-sip_auth-register-acme-1001-wrong-password")).content
    assert ok == wrong


def test_beta_1001_is_beta_own_user(acme_beta):
    result = replay(request("directory-sip_auth-register-beta-1001-password-ok"))
    _, params, variables = user_of(result.content)
    assert params["a1-hash"] == a1_hash("1001", "beta.example.net", "beta-1001-secret")
    assert params["a1-hash"] != a1_hash("1001", "beta.example.net", "acme-1001-secret")
    assert variables["user_context"] == "beta.example.net"
    assert variables["effective_caller_id_name"] == "Beta 1001"


def test_tenant_b_user_never_appears_in_tenant_a(acme_beta):
    from pbx.actions import do_create_extension as create

    create(acme_beta.c2, number="2002", name="Only in beta")
    body = (request("directory-user_call-acme-1002").body
            .replace(b"user=1002", b"user=2002").replace(b"dialed_user=1002", b"dialed_user=2002"))
    from tests.fsconf.replay import Captured

    captured = request("directory-user_call-acme-1002")
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    assert b'status="not found"' in result.content


def test_alias_realm_gets_its_own_hash_and_the_tenant_context(acme_beta):
    from tests.fsconf.replay import Captured

    captured = request("directory-sip_auth-register-acme-1001-a1hash-ok")
    body = captured.body.replace(b"acme.example.net", b"acme.localhost")
    _, params, variables = user_of(
        replay(Captured(captured.name, captured.method, captured.path, captured.headers, body)).content)
    assert params["a1-hash"] == a1_hash("1001", "acme.localhost", "acme-1001-secret")
    assert variables["user_context"] == "acme.example.net"


@pytest.mark.parametrize("name", [
    "directory-sip_auth-invite-acme-1001",
    "directory-user_call-acme-1002",
    "directory-user_call-acme-1001-from-did",
    "directory-message-count-after-register-acme-1001",
    "directory-message-count-vm_boxcount-acme-1001",
    "directory-voicemail-lookup-acme-1001",
    "directory-reverse-auth-lookup-acme-1002",
    "directory-group_call-2-pointer-1001",
    "directory-group_call-3-pointer-1002",
    "directory-sip_auth-unregister-acme-1002-expires0",
])
def test_user_lookups_answer_the_user_of_the_capture(acme_beta, name):
    root, params, variables = user_of(replay(request(name)).content)
    captured_root, _, captured_variables = user_of(response(name).body)
    assert root.find(".//user").get("id") == captured_root.find(".//user").get("id")
    assert variables["user_context"] == captured_variables["user_context"] == "acme.example.net"
    assert params["vm-password"] == root.find(".//user").get("id") + "0"


def test_unknown_domain_is_not_found(acme_beta):
    result = replay(request("directory-sip_auth-register-unknown-domain"))
    assert b'status="not found"' in response("directory-sip_auth-register-unknown-domain").body
    assert b'status="not found"' in result.content


def test_suspended_tenant_cannot_register(acme_beta):
    do_suspend_account(acme_beta.user("master_admin"), acme_beta.r1)  # the reseller above acme
    result = replay(request("directory-sip_auth-register-acme-1001-a1hash-ok"))
    assert b'status="not found"' in result.content


def test_master_domains_are_not_sip_realms(acme_beta):
    result = replay(request("directory-network-list-startup-127.0.0.1-not-found"))
    assert b'status="not found"' in result.content


def test_names_with_markup_are_escaped(acme_beta):
    extension = do_create_extension(acme_beta.c1, number="1003", name="O'Brien <&> \"Q\"")
    do_add_device(acme_beta.c1, extension, secret="s")
    from tests.fsconf.replay import Captured

    captured = request("directory-user_call-acme-1002")
    body = captured.body.replace(b"user=1002", b"user=1003")
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    _, _, variables = user_of(result.content)
    assert variables["effective_caller_id_name"] == "O'Brien <&> \"Q\""
    assert b"&lt;&amp;&gt;" in result.content


def test_extension_with_several_devices_rings_them_all(acme_beta):
    from django_tenants.utils import schema_context

    from pbx.models import Extension

    with schema_context(acme_beta.c1.schema_name):
        extension = Extension.objects.get(number="1001")
    mobile, _ = do_add_device(acme_beta.c1, extension, label="Mobile")
    assert mobile.username == "1001-2"
    _, params, _ = user_of(replay(request("directory-user_call-acme-1001-from-did")).content)
    # Every enabled device, under every domain of the account (phones may register with
    # the alias): a registration under acme.localhost is reached too.
    for contact in ("1001@acme.example.net", "1001@acme.localhost",
                    "1001-2@acme.example.net", "1001-2@acme.localhost"):
        assert f"sofia_contact(*/{contact})" in params["dial-string"]


def test_disabled_device_stops_ringing_even_when_named_like_the_extension(acme_beta):
    from django_tenants.utils import schema_context

    from pbx.actions import do_update_device
    from pbx.models import Device

    with schema_context(acme_beta.c1.schema_name):
        device = Device.objects.get(username="1001")
    do_update_device(acme_beta.c1, device, enabled=False)
    _, params, _ = user_of(replay(request("directory-user_call-acme-1001-from-did")).content)
    # Never a user without credentials: sofia would let anyone register as it.
    assert params["a1-hash"] != a1_hash("1001", "acme.example.net", "acme-1001-secret")
    assert params["dial-string"] == "error/user_not_registered"


def test_realm_is_hashed_as_the_phone_sent_it(acme_beta):
    from tests.fsconf.replay import Captured

    captured = request("directory-sip_auth-register-acme-1001-a1hash-ok")
    body = captured.body.replace(b"sip_auth_realm=acme.example.net", b"sip_auth_realm=ACME.example.net")
    body = body.replace(b"&domain=acme.example.net", b"&domain=ACME.example.net")
    _, params, _ = user_of(
        replay(Captured(captured.name, captured.method, captured.path, captured.headers, body)).content)
    assert params["a1-hash"] == a1_hash("1001", "ACME.example.net", "acme-1001-secret")


def test_every_voicemail_box_gets_a_pin(acme_beta):
    extension = do_create_extension(acme_beta.c1, number="1005", name="No PIN given")
    with schema_context(acme_beta.c1.schema_name):
        pin = VoicemailBox.objects.get(extension=extension).pin
    assert pin.isdigit() and len(pin) == 6
    assert pin != "1005"


def test_control_characters_in_names_are_refused_at_input(acme_beta):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        do_create_extension(acme_beta.c1, number="1006", name="Bad\x01Name")
    assert "name" in exc.value.message_dict


def test_international_permission_never_exceeds_the_account(acme_beta):
    from pbx.models.extensions import CallPermission

    do_create_extension(acme_beta.c1, number="1007", name="Globetrotter",
                        call_permission=CallPermission.INTERNATIONAL)
    from django_tenants.utils import schema_context

    from pbx.models import Extension
    from pbx.permissions import toll_allow

    with schema_context(acme_beta.c1.schema_name):
        extension = Extension.objects.get(number="1007")
    acme_beta.c1.allow_international = False
    assert toll_allow(acme_beta.c1, extension) == "local,domestic"
    acme_beta.c1.allow_international = True
    assert toll_allow(acme_beta.c1, extension) == "local,domestic,international"


def test_group_call_lists_the_groups_extensions_as_pointers(acme_beta):
    for account, numbers in ((acme_beta.c1, ("1001", "1002")), (acme_beta.c2, ("1001",))):
        with schema_context(account.schema_name):
            for number in numbers:
                do_update_extension(account, Extension.objects.get(number=number), call_groups=["sales"])
    result = replay(request("directory-group_call-1-group-sales"))
    captured = etree.fromstring(response("directory-group_call-1-group-sales").body)
    root = etree.fromstring(result.content)
    def pointers(document):
        return [(u.get("id"), u.get("type")) for u in document.xpath("//group[@name='sales']/users/user")]

    assert pointers(root) == pointers(captured) == [("1001", "pointer"), ("1002", "pointer")]
    assert root.find(".//domain").get("name") == "acme.example.net"
    # The pointer lookups are user lookups and carry the group.
    _, _, variables = user_of(replay(request("directory-group_call-2-pointer-1001")).content)
    assert variables["callgroup"] == "sales"
    # Another tenant's group of the same name is its own.
    sales = request("directory-group_call-1-group-sales")
    beta = replay(Captured(sales.name, "POST", "/", sales.headers,
                           sales.body.replace(b"acme.example.net", b"beta.example.net")))
    beta_root = etree.fromstring(beta.content)
    assert [u.get("id") for u in beta_root.xpath("//group/users/user")] == ["1001"]
    assert beta_root.find(".//domain").get("name") == "beta.example.net"


def test_unknown_or_empty_group_is_not_found(acme_beta):
    result = replay(request("directory-group_call-1-group-sales"))
    assert etree.fromstring(result.content).find(".//result").get("status") == "not found"


def test_network_list_answers_the_domain_without_users(acme_beta):
    result = replay(request("directory-network-list-startup-acme"))
    root = etree.fromstring(result.content)
    assert root.find("section").get("name") == "directory"
    assert root.find(".//domain").get("name") == "acme.example.net"
    assert root.find(".//user") is None and b"cidr" not in result.content
    with_other = request("directory-network-list-startup-acme")
    gamma = Captured(with_other.name, "POST", "/", with_other.headers,
                     with_other.body.replace(b"acme.example.net", b"gamma.example.net"))
    assert etree.fromstring(replay(gamma).content).find(".//result").get("status") == "not found"


# --- voicemail (issue 5): mod_voicemail looks boxes up as directory users -------------------


def lookup(name: str, user: str, domain: bytes = b"acme.example.net") -> tuple[etree._Element, dict, dict]:
    captured = request(name)
    body = captured.body.replace(b"user=1001", b"user=" + user.encode())
    body = body.replace(b"acme.example.net", domain)
    return user_of(replay(Captured(captured.name, "POST", "/", captured.headers, body)).content)


VOICEMAIL_LOOKUPS = ["directory-voicemail-lookup-acme-1001", "directory-message-count-vm_boxcount-acme-1001",
                     "directory-message-count-after-register-acme-1001"]


@pytest.mark.parametrize("name", VOICEMAIL_LOOKUPS)
def test_extension_box_settings_are_served(acme_beta, name):
    from pbx.actions import do_update_voicemail_box

    with schema_context(acme_beta.c1.schema_name):
        box = VoicemailBox.objects.get(number="1001")
    do_update_voicemail_box(acme_beta.c1, box, email="ann@example.com",
                            sms_email="4165550100@sms.example.com", delete_after_email=True,
                            skip_instructions=True)
    _, params, variables = lookup(name, "1001")
    assert params["vm-password"] == "10010" and params["vm-enabled"] == "true"
    # Switchboard mails the messages itself (pbx.voicemail_email): FreeSWITCH's mailer
    # stays off, and never deletes a message after mailing it.
    for absent in ("vm-mailto", "vm-email-all-messages", "vm-attach-file", "vm-keep-local-after-email",
                   "vm-notify-mailto", "vm-notify-email-all-messages"):
        assert absent not in params
    assert params["vm-skip-instructions"] == "true"
    assert variables["user_context"] == "acme.example.net"


def test_a_plain_box_keeps_messages_and_mails_nothing(acme_beta):
    _, params, _ = lookup("directory-voicemail-lookup-acme-1001", "1001")
    assert params["vm-enabled"] == "true"
    for absent in ("vm-mailto", "vm-notify-mailto", "vm-keep-local-after-email", "vm-skip-instructions"):
        assert absent not in params


def test_voicemail_off_disables_the_box_but_keeps_it(acme_beta):
    with schema_context(acme_beta.c1.schema_name):
        extension = Extension.objects.get(number="1001")
    do_update_extension(acme_beta.c1, extension, voicemail_enabled=False)
    _, params, _ = lookup("directory-voicemail-lookup-acme-1001", "1001")
    assert params["vm-enabled"] == "false"
    with schema_context(acme_beta.c1.schema_name):
        assert VoicemailBox.objects.filter(number="1001").exists()


@pytest.mark.parametrize("name", VOICEMAIL_LOOKUPS)
def test_standalone_box_is_a_voicemail_only_user(acme_beta, name):
    from pbx.actions import do_create_voicemail_box

    do_create_voicemail_box(acme_beta.c1, number="8000", name="Sales", pin="2580", email="sales@example.com")
    root, params, variables = lookup(name, "8000")
    assert root.find(".//user").get("id") == "8000"
    assert params["vm-password"] == "2580" and "vm-mailto" not in params
    assert params["dial-string"] == "error/user_not_registered"
    assert set(variables) == {"timezone"}  # no context, no caller ID: nobody calls as it


def test_a_box_only_user_cannot_be_registered_as(acme_beta):
    """sofia accepts any password for a user with neither password nor a1-hash
    (sofia_reg.c), so the box user carries a hash no client can match."""
    from pbx.actions import do_create_voicemail_box

    do_create_voicemail_box(acme_beta.c1, number="8000", name="Sales", pin="2580")
    _, params, _ = lookup("directory-sip_auth-register-acme-1001-a1hash-ok", "8000")
    assert len(params["a1-hash"]) == 32 and "password" not in params
    for guess in ("", "2580", "8000", "acme-1001-secret"):
        assert params["a1-hash"] != a1_hash("8000", "acme.example.net", guess)


def test_disabled_standalone_box_is_served_disabled(acme_beta):
    from pbx.actions import do_create_voicemail_box, do_update_voicemail_box

    box, _ = do_create_voicemail_box(acme_beta.c1, number="8000", name="Sales")
    do_update_voicemail_box(acme_beta.c1, box, enabled=False)
    _, params, _ = lookup("directory-voicemail-lookup-acme-1001", "8000")
    assert params["vm-enabled"] == "false"


def test_beta_box_is_not_acme_box(acme_beta):
    from pbx.actions import do_create_voicemail_box

    do_create_voicemail_box(acme_beta.c2, number="8000", name="Beta sales", pin="97531")
    captured = request("directory-voicemail-lookup-acme-1001")
    body = captured.body.replace(b"user=1001", b"user=8000")
    result = replay(Captured(captured.name, "POST", "/", captured.headers, body))
    assert b'status="not found"' in result.content and b"97531" not in result.content
    _, params, _ = lookup("directory-voicemail-lookup-acme-1001", "8000", b"beta.example.net")
    assert params["vm-password"] == "97531"
    # Same extension number in both: each tenant's own PIN.
    _, beta_params, _ = lookup("directory-voicemail-lookup-acme-1001", "1001", b"beta.example.net")
    assert beta_params["vm-password"] == "10010"
    with schema_context(acme_beta.c2.schema_name):
        from pbx.actions import do_set_voicemail_pin

        do_set_voicemail_pin(acme_beta.c2, VoicemailBox.objects.get(number="1001"), pin="86420")
    _, acme_params, _ = lookup("directory-voicemail-lookup-acme-1001", "1001")
    assert acme_params["vm-password"] == "10010"


@pytest.mark.parametrize("user", ["1001", "1002", "8000"])
def test_voicemail_lookups_never_carry_a_sip_secret(acme_beta, user):
    from pbx.actions import do_create_voicemail_box

    do_create_voicemail_box(acme_beta.c1, number="8000", name="Sales", pin="2580")
    for name in VOICEMAIL_LOOKUPS:
        captured = request(name)
        body = captured.body.replace(b"user=1001", b"user=" + user.encode())
        content = replay(Captured(captured.name, "POST", "/", captured.headers, body)).content
        assert b"-secret" not in content and b'name="password"' not in content


def test_standalone_box_lookup_within_the_query_budget(acme_beta):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pbx.actions import do_create_voicemail_box

    do_create_voicemail_box(acme_beta.c1, number="8000", name="Sales", pin="2580")
    captured = request("directory-message-count-after-register-acme-1001")
    body = captured.body.replace(b"user=1001", b"user=8000")
    with CaptureQueriesContext(connection) as queries:
        result = replay(Captured(captured.name, "POST", "/", captured.headers, body))
    assert b'id="8000"' in result.content
    sql = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(sql) <= 3, "\n\n".join(sql)
