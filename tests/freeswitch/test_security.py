"""Attacks from issue 16 tried on the real switch."""

from __future__ import annotations

import pytest

from carriers.actions import do_create_trunk

pytestmark = pytest.mark.freeswitch


def test_a_phone_cannot_register_as_another_tenants_extension_with_its_own_credentials(fs):
    """Acme's 1001 REGISTERs with To/From 1001@beta.example.net and answers the challenge
    (realm beta) with realm acme and its own password: sofia authenticates against the
    realm in the answer and stored the registration under beta's address until the
    directory checked the identity a request claims (3715cdb; before it this test fails:
    sofia listed 1001@beta.example.net)."""
    acme, beta = fs.data.customer("acme"), fs.data.customer("beta")
    acme.extension("1001")
    beta.extension("1001")
    # The hand-built REGISTER works: with its own address it registers.
    own = fs.sip.raw_register(aor_user="1001", aor_domain="acme.example.net", auth_user="1001",
                              auth_realm=None, password=acme.secret("1001"))
    assert own.final_status == 200, own.received
    fs.switch.flush_registrations()

    attack = fs.sip.raw_register(aor_user="1001", aor_domain="beta.example.net", auth_user="1001",
                                 auth_realm="acme.example.net", password=acme.secret("1001"))

    assert "1001@beta.example.net" not in fs.registrations()
    assert attack.final_status == 403, attack.received


def platform_trunk_to(fs, carrier) -> None:
    do_create_trunk(fs.data.admin, fs.data.admin.account, name="Carrier", rules=[],
                    gateways=[{"server": "127.0.0.1", "port": carrier.port, "transport": "udp"}])


def test_a_phones_diversion_and_x_headers_do_not_reach_the_carrier(fs):
    """Issue 16 hole 3: FreeSWITCH copies the caller's ``sip_h_*`` headers to the
    outbound leg unless told not to; a phone's forged Diversion (another tenant's number)
    would have the carrier bill or authorise the call as forwarded by it."""
    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    acme.extension("1001")
    platform_trunk_to(fs, carrier)

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "+12125550199", hold_ms=300,
                       extra_headers=("Diversion: <sip:+16045550199@beta.example.net>;reason=unconditional",
                                      "X-Billing-Account: beta", "P-Charge-Info: <sip:+16045550199@x>"))

    (invite,) = carrier.wait_for_invites(1)
    assert invite.request_uri.startswith("sip:"), invite.first_line
    assert "12125550199" in invite.request_uri
    assert invite.headers("Diversion") == [] and invite.headers("X-Billing-Account") == [], invite.text
    assert "16045550199" not in invite.text
    assert call.final_status("INVITE") == 486, call.describe()
    # The headers did reach FreeSWITCH (the phone's leg holds them): only the trunk leg drops them.
    assert "X-Billing-Account" in "".join(m.text for m in call.messages if m.method == "INVITE")


def test_a_phone_dialing_an_internal_transfer_number_does_not_reach_the_carrier(fs):
    """Issue 16 hole 4: sofia URL-decodes the request-URI user, so a phone can dial
    ``~external:+12125550199``; only our own transfers may use such numbers. 1001 may
    call out (the control call reaches the carrier); 1002, internal calls only, dials the
    transfer number and nothing reaches the carrier."""
    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002", call_permission="internal")
    platform_trunk_to(fs, carrier)
    control = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "+12125550199", hold_ms=300)
    assert len(carrier.wait_for_invites(1)) == 1, control.describe()

    attack = fs.sip.call("1002", "acme.example.net", acme.secret("1002"), "%7Eexternal%3A%2B12125550199",
                         hold_ms=300)

    assert len(carrier.wait_for_invites(2, timeout=1.5)) == 1
    assert attack.final_status("INVITE") == 404, attack.describe()  # planned as an unknown number
    # The attack did arrive as the transfer number (sofia decoded it), and was refused.
    assert "->~external:+12125550199 in context acme.example.net" in fs.log()
