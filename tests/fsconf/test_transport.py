"""The xml_curl endpoint's transport: who may fetch, how bodies are read, and that no
request — captured or hostile — gets a 500."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree

from fsconf.request import BadFetch, parse_fetch_body
from tests.fsconf.replay import (
    CAPTURE_CREDENTIALS,
    Captured,
    basic,
    replay,
    request,
    request_names,
    response,
)

pytestmark = pytest.mark.django_db


def test_there_are_captures():
    assert len(request_names()) >= 30


@pytest.mark.parametrize("name", request_names())
def test_every_captured_request_parses(name):
    captured = request(name)
    fetched = parse_fetch_body(captured.body)
    raw_head = captured.body.split(b"&")[:5]
    assert [part.split(b"=")[0] for part in raw_head] == [
        b"hostname", b"section", b"tag_name", b"key_name", b"key_value"]
    assert fetched.hostname == "vm"
    assert fetched.key_value == raw_head[4].split(b"=", 1)[1].decode()


def test_encoded_fields_are_decoded_and_plus_is_kept():
    fetched = parse_fetch_body(request("dialplan-public-did-14165550100-external-profile").body)
    assert fetched.section == "dialplan"
    assert fetched.get("Caller-Caller-ID-Number") == "+12125551234"
    assert fetched.get("Event-Date-GMT").startswith("Sun, 22 Nov 2026")
    directory = parse_fetch_body(request("directory-sip_auth-register-acme-1001-a1hash-ok").body)
    assert (directory.key_value, directory.get("action"), directory.get("sip_auth_uri")) == (
        "acme.example.net", "sip_auth", "sip:acme.example.net")


@pytest.mark.parametrize("name", request_names())
def test_every_captured_request_gets_a_valid_document(name, settings):
    if name.endswith("no-gateway-credentials"):  # configuration B: a binding without them
        settings.FREESWITCH_GATEWAY_CREDENTIALS = ""
    result = replay(request(name))
    assert result.status_code == 200, result.content
    assert result["Content-Type"].startswith("text/xml")
    root = etree.fromstring(result.content)
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"


def test_per_section_urls_check_the_section():
    captured = request("directory-user_call-acme-1002")
    assert replay(captured, "/freeswitch/directory").status_code == 200
    assert replay(captured, "/freeswitch/dialplan").status_code == 400


class TestAccess:
    def test_capture_without_credentials_is_refused_when_they_are_required(self):
        result = replay(request("directory-sip_auth-register-acme-1002-no-gateway-credentials"))
        assert result.status_code == 401
        assert result["WWW-Authenticate"].startswith("Basic")

    def test_wrong_credentials(self):
        captured = request("directory-user_call-acme-1002")
        forged = Captured(captured.name, captured.method, captured.path,
                          {**captured.headers, "authorization": basic("fsxml:guess")}, captured.body)
        assert replay(forged).status_code == 401

    @pytest.mark.parametrize("header", ["Basic !!!", "Bearer abc", "Basic " + "x" * 5, "",
                                        "Basic é", "Basic //79/w=="])
    def test_garbage_authorization(self, header):
        captured = request("directory-user_call-acme-1002")
        forged = Captured(captured.name, captured.method, captured.path,
                          {**captured.headers, "authorization": header}, captured.body)
        assert replay(forged).status_code == 401

    def test_no_credentials_configured_means_allowlist_only(self, settings):
        settings.FREESWITCH_GATEWAY_CREDENTIALS = ""
        result = replay(request("directory-sip_auth-register-acme-1002-no-gateway-credentials"))
        assert result.status_code == 200

    @pytest.mark.parametrize("address", ["192.0.2.50", "10.0.0.1", "not-an-ip", "::2"])
    def test_addresses_outside_the_allowlist(self, address):
        assert replay(request("directory-user_call-acme-1002"), remote_addr=address).status_code == 403

    def test_relayed_requests_are_refused(self):
        """Behind a proxy on the same host REMOTE_ADDR is loopback for everyone."""
        captured = request("directory-user_call-acme-1002")
        from django.test import Client

        result = Client().generic("POST", "/freeswitch/", captured.body,
                                  content_type=captured.headers["content-type"],
                                  HTTP_AUTHORIZATION=captured.headers["authorization"],
                                  HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="127.0.0.1")
        assert result.status_code == 403

    def test_ipv4_mapped_address(self):
        assert replay(request("directory-user_call-acme-1002"),
                      remote_addr="::ffff:127.0.0.1").status_code == 200

    def test_allowlist_takes_networks(self, settings):
        settings.FREESWITCH_ALLOWED_NETWORKS = ["192.0.2.0/24"]
        assert replay(request("directory-user_call-acme-1002"),
                      remote_addr="192.0.2.50").status_code == 200

    def test_get_is_refused(self):
        from django.test import Client

        result = Client().get("/freeswitch/", HTTP_AUTHORIZATION=basic(CAPTURE_CREDENTIALS))
        assert result.status_code == 405


class TestBadBodies:
    @pytest.mark.parametrize("body", [b"", b"section=", b"hostname=vm&section=bogus", b"&&&=&",
                                      b"section=directory" + b"x" * 300_000, b"\xff\xfe\x00"])
    def test_bad_bodies_are_400_not_500(self, body):
        captured = Captured("bad", "POST", "/xml_curl",
                            {"content-type": "application/x-www-form-urlencoded",
                             "authorization": basic(CAPTURE_CREDENTIALS)}, body)
        assert replay(captured).status_code == 400

    @hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode))
    def test_fuzzed_bodies_never_500(self, body):
        captured = Captured("fuzz", "POST", "/xml_curl",
                            {"content-type": "application/x-www-form-urlencoded",
                             "authorization": basic(CAPTURE_CREDENTIALS)}, body)
        assert replay(captured).status_code in (200, 400)

    @hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(
        ["section", "purpose", "key_value", "action", "user", "domain", "tag_name", "x"]),
        st.text(max_size=40)), max_size=12))
    def test_fuzzed_fields_never_500(self, fields):
        from urllib.parse import quote

        body = "&".join(f"{k}={quote(v)}" for k, v in [("section", "directory"), *fields]).encode()
        captured = Captured("fuzz", "POST", "/xml_curl",
                            {"content-type": "application/x-www-form-urlencoded",
                             "authorization": basic(CAPTURE_CREDENTIALS)}, body)
        assert replay(captured).status_code in (200, 400)

    @pytest.mark.parametrize("value", ["%00", "1%01002", "%EF%BF%BE", "%C0%80", "%ED%A0%80"])
    def test_characters_xml_cannot_carry_never_500(self, tree, value):
        from tenants.actions import do_set_domains

        do_set_domains(tree.user("r1_admin"), tree.c1, primary="acme.example.net")
        for name in ("dialplan-acme-1001-to-1002", "directory-user_call-acme-1002"):
            captured = request(name)
            body = (captured.body.replace(b"Destination-Number=1002", b"Destination-Number=" + value.encode())
                    .replace(b"user=1002", b"user=" + value.encode()))
            result = replay(Captured(captured.name, captured.method, captured.path,
                                     captured.headers, body))
            assert result.status_code == 200, (name, value, result.content)
            etree.fromstring(result.content)

    def test_parse_refuses_unknown_sections(self):
        with pytest.raises(BadFetch):
            parse_fetch_body(b"hostname=vm&section=../../etc&tag_name=")


class TestGatewayDomains:
    def test_answers_every_serving_domain_like_the_capture(self, tree):
        from tenants.actions import do_set_domains

        do_set_domains(tree.user("r1_admin"), tree.c1, primary="acme.example.net")
        do_set_domains(tree.user("r2_admin"), tree.c2, primary="beta.example.net")
        result = replay(request("directory-gateways-startup-profile-internal"))
        ours = etree.fromstring(result.content)
        captured = etree.fromstring(response("directory-gateways-startup-profile-internal").body)
        names = {d.get("name") for d in ours.iter("domain")}
        assert {d.get("name") for d in captured.iter("domain")} <= names
        assert all(len(d) == 0 for d in ours.iter("domain"))  # bare <domain/> elements
        assert "localhost" not in names and "127.0.0.1" not in names  # admin hosts, not realms

    def test_suspended_and_deleted_accounts_are_left_out(self, tree):
        from tenants.actions import do_soft_delete_account, do_suspend_account

        do_suspend_account(tree.user("r1_admin"), tree.r1a)
        do_soft_delete_account(tree.user("r2_admin"), tree.c2)
        result = replay(request("directory-gateways-startup-profile-external"))
        names = {d.get("name") for d in etree.fromstring(result.content).iter("domain")}
        assert "c1.example.net" in names
        assert not {"r1a.example.net", "c1a.example.net", "c2.example.net"} & names

    def test_names_are_escaped(self, tree):
        # Domain names cannot hold markup, but the builder must escape whatever it gets.
        from fsconf.documents import new_document, serialize

        root, section = new_document("directory")
        etree.SubElement(section, "domain", name="O'Brien <&>")
        assert b"O'Brien &lt;&amp;&gt;" in serialize(root)


def test_no_tenant_lookup_for_freeswitch_requests(tree, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        replay(request("directory-gateways-startup-profile-internal"))
    assert connection.schema_name == "public"
