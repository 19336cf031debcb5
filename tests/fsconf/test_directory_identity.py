"""Issue 16, hole 1: the identity a SIP request claims must belong to the account whose
realm authenticates it. FreeSWITCH authenticates against the digest realm and stores a
registration under the To host without comparing the two (sofia_reg_parse_auth); with
force-register-domain off (multi-tenancy) only the directory answer can refuse."""

from __future__ import annotations

import logging

import pytest

from common.secrets import a1_hash
from tenants.actions import do_set_domains
from tests.fsconf.replay import Captured, replay, request

REGISTER = "directory-sip_auth-register-acme-1001-a1hash-ok"
INVITE = "directory-sip_auth-invite-acme-1001"
NOT_FOUND = b'status="not found"'


def replay_with(name: str, **fields: str):
    """Replay capture ``name`` with the encoded fields in ``fields`` set to new values
    (the value as it appears in the body, i.e. already encoded)."""
    captured = request(name)
    pairs = []
    for pair in captured.body.split(b"&"):
        field, _, value = pair.partition(b"=")
        new = fields.get(field.decode())
        pairs.append(field + b"=" + (new.encode() if new is not None else value))
    body = b"&".join(pairs)
    return replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))


def hijack_register_body() -> bytes:
    """The REGISTER the issue quotes, as FreeSWITCH 1.11 sent it: a phone of Acme with
    To/From ``1001@beta.example.net`` answering the challenge with realm
    ``acme.example.net`` and Acme 1001's password."""
    return (
        b"hostname=vm&section=directory&tag_name=domain&key_name=name&key_value=acme.example.net"
        b"&Event-Name=REQUEST_PARAMS&Core-UUID=5e20af74-9361-42c5-a8e4-75caa694e6f1"
        b"&FreeSWITCH-Hostname=vm&FreeSWITCH-Switchname=vm&FreeSWITCH-IPv4=192.0.2.2"
        b"&Event-Calling-File=sofia_reg.c&Event-Calling-Function=sofia_reg_parse_auth"
        b"&Event-Calling-Line-Number=3124&Event-Sequence=911"
        b"&action=sip_auth&sip_profile=internal&sip_user_agent=attacker%2F1.0"
        b"&sip_auth_username=1001&sip_auth_realm=acme.example.net"
        b"&sip_auth_nonce=0d1bc3a0-5f1c-4bd4-9a51-34b07d0e4a61&sip_auth_uri=sip%3Abeta.example.net"
        b"&sip_contact_user=1001&sip_contact_host=198.51.100.7"
        b"&sip_to_user=1001&sip_to_host=beta.example.net&sip_via_protocol=udp"
        b"&sip_from_user=1001&sip_from_host=beta.example.net&sip_call_id=77-hijack%40198.51.100.7"
        b"&sip_request_host=beta.example.net&sip_auth_qop=auth&sip_auth_cnonce=6b8b4567"
        b"&sip_auth_nc=00000001&sip_auth_response=4f1e2d3c4b5a69788796a5b4c3d2e1f0"
        b"&sip_auth_method=REGISTER&client_port=5060&key=id&user=1001&domain=acme.example.net"
        b"&ip=198.51.100.7"
    )


def test_the_issue_register_for_another_tenants_user_is_not_found(acme_beta, caplog):
    captured = request(REGISTER)
    with caplog.at_level(logging.WARNING, logger="fsconf.sections.directory"):
        result = replay(Captured("hijack", captured.method, captured.path, captured.headers,
                                 hijack_register_body()))
    assert result.status_code == 200
    assert NOT_FOUND in result.content
    assert b"a1-hash" not in result.content
    assert any("beta.example.net" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("fields", [
    {"sip_to_host": "beta.example.net"},  # the address of record of another tenant
    {"sip_from_host": "beta.example.net"},
    {"sip_to_host": "unknown.example.org"},  # no account at all
    {"sip_to_host": "beta.example.net", "sip_from_host": "beta.example.net",
     "sip_request_host": "beta.example.net"},
])
def test_register_must_claim_an_identity_of_the_realms_account(acme_beta, fields):
    assert NOT_FOUND in replay_with(REGISTER, **fields).content


def test_register_is_still_answered_after_the_warm_cache(acme_beta):
    """The refusal is part of the cache identity: the honest REGISTER that follows a
    hijack attempt for the same user still gets its hash, and the other way round."""
    assert NOT_FOUND in replay_with(REGISTER, sip_to_host="beta.example.net").content
    assert b"a1-hash" in replay(request(REGISTER)).content
    assert NOT_FOUND in replay_with(REGISTER, sip_to_host="beta.example.net").content


def test_register_with_an_alias_or_other_case_of_the_same_account_is_answered(acme_beta):
    """Phones may use any of the account's domains, in any case: the account's."""
    result = replay_with(REGISTER, sip_to_host="ACME.localhost", sip_from_host="acme.example.net.")
    assert b"a1-hash" in result.content
    assert a1_hash("1001", "acme.example.net", "acme-1001-secret").encode() in result.content


def test_register_request_host_is_free(acme_beta):
    """The request URI names the registrar (often its address), not an identity."""
    assert b"a1-hash" in replay_with(REGISTER, sip_request_host="192.0.2.2").content


def test_invite_must_come_from_the_realms_account_but_may_call_anywhere(acme_beta):
    assert NOT_FOUND in replay_with(INVITE, sip_from_host="beta.example.net").content
    # Addressed to another tenant or a carrier number: the destination is the dialplan's.
    anywhere = replay_with(INVITE, sip_to_host="beta.example.net", sip_request_host="beta.example.net",
                           sip_to_user="%2B16045550199", sip_request_user="%2B16045550199")
    assert b"a1-hash" in anywhere.content


@pytest.mark.parametrize("method", ["SUBSCRIBE", "PUBLISH"])
def test_subscribe_and_publish_name_the_realms_account_at_both_ends(acme_beta, method):
    """Presence/BLF and MWI subscriptions: watching another tenant's extension would show
    its calls, so the watched resource (To) must be the account's too."""
    assert b"a1-hash" in replay_with(INVITE, sip_auth_method=method).content
    assert NOT_FOUND in replay_with(INVITE, sip_auth_method=method, sip_to_host="beta.example.net").content
    assert NOT_FOUND in replay_with(INVITE, sip_auth_method=method,
                                    sip_from_host="beta.example.net").content


@pytest.mark.parametrize("method", ["MESSAGE", "REFER", "INFO", "NOTIFY", "OPTIONS", "BYE"])
def test_other_authenticated_methods_check_the_from_host(acme_beta, method):
    assert b"a1-hash" in replay_with(INVITE, sip_auth_method=method, sip_to_host="beta.example.net").content
    assert NOT_FOUND in replay_with(INVITE, sip_auth_method=method,
                                    sip_from_host="beta.example.net").content


def test_beta_own_register_still_works(acme_beta):
    assert b"a1-hash" in replay(request("directory-sip_auth-register-beta-1001-password-ok")).content


def test_missing_hosts_keep_the_old_answer(acme_beta):
    """Lookups without SIP hosts (older FreeSWITCH, user_call, message-count, ...) are
    answered as before: there is no claimed identity to compare."""
    captured = request(REGISTER)
    body = b"&".join(p for p in captured.body.split(b"&")
                     if not p.startswith((b"sip_to_host=", b"sip_from_host=")))
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    assert b"a1-hash" in result.content
    for name in ("directory-user_call-acme-1002", "directory-message-count-after-register-acme-1001",
                 "directory-reverse-auth-lookup-acme-1002", "directory-voicemail-lookup-acme-1001"):
        assert b"a1-hash" in replay(request(name)).content, name


def test_a_domain_moved_to_another_account_is_refused_at_once(acme_beta, committed):
    """Domain changes bump the platform generation, so a cached 'yes' does not outlive
    the alias it was given for."""
    assert b"a1-hash" in replay_with(REGISTER, sip_to_host="acme.localhost").content
    with committed():
        do_set_domains(acme_beta.user("r1_admin"), acme_beta.c1, primary="acme.example.net", aliases=[])
    assert NOT_FOUND in replay_with(REGISTER, sip_to_host="acme.localhost").content


class TestRepeatedFields:
    """A realm holding ``&domain=beta.example.net``: FreeSWITCH puts the realm unencoded
    into key_value, so the body gains a second ``domain`` (and whatever else)."""

    def injected(self) -> Captured:
        captured = request("directory-sip_auth-register-beta-1001-password-ok")
        body = captured.body.replace(b"key_value=beta.example.net",
                                     b"key_value=acme.example.net&domain=acme.example.net", 1)
        return Captured(captured.name, captured.method, captured.path, captured.headers, body)

    def test_a_second_domain_field_is_not_found_and_logged(self, acme_beta, caplog):
        with caplog.at_level(logging.WARNING, logger="fsconf.sections"):
            result = replay(self.injected())
        assert result.status_code == 200
        assert NOT_FOUND in result.content
        assert any("repeated" in r.getMessage() and "domain" in r.getMessage() for r in caplog.records)

    def test_the_issue_realm_with_an_ampersand(self, acme_beta):
        captured = request(REGISTER)
        realm = b"acme.example.net&domain=beta.example.net"
        body = (captured.body.replace(b"key_value=acme.example.net", b"key_value=" + realm, 1)
                .replace(b"sip_auth_realm=acme.example.net",
                         b"sip_auth_realm=acme.example.net%26domain%3Dbeta.example.net")
                .replace(b"&domain=acme.example.net",
                         b"&domain=acme.example.net%26domain%3Dbeta.example.net"))
        result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
        assert NOT_FOUND in result.content

    def test_repeated_caller_headers_are_not_a_reason(self, acme_beta):
        """A phone may send an ``X-`` header twice; FreeSWITCH copies both into the body.
        We never read them, so the request is answered."""
        captured = request(REGISTER)
        body = captured.body.replace(b"&X-Capture-Tenant=acme.example.net",
                                     b"&X-Capture-Tenant=acme.example.net&X-Capture-Tenant=x", 1)
        assert body != captured.body
        result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
        assert b"a1-hash" in result.content

    def test_an_injected_new_field_is_caught_by_the_encoded_domain(self, acme_beta):
        """``&purpose=gateways`` repeats nothing, but key_value no longer matches the
        ``domain`` FreeSWITCH sends encoded for the same realm."""
        captured = request(REGISTER)
        injected = b"key_value=acme.example.net&purpose=gateways"
        body = (captured.body.replace(b"key_value=acme.example.net", injected, 1)
                .replace(b"&domain=acme.example.net", b"&domain=acme.example.net%26purpose%3Dgateways"))
        result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
        assert NOT_FOUND in result.content
        assert b"<domain" not in result.content
