"""Attacks from issue 16 tried on the real switch."""

from __future__ import annotations

import pytest

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
