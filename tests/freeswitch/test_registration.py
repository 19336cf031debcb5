"""REGISTER against the real switch: digest authentication answered by our directory."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.freeswitch


def test_a_device_registers_with_its_password_and_is_refused_with_another(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    secret = acme.secret("1001")

    wrong = fs.sip.register("1001", "acme.example.net", secret + "-wrong")
    assert wrong.responses("REGISTER") == [401, 403], wrong.describe()
    assert fs.registrations() == []

    right = fs.sip.register("1001", "acme.example.net", secret)
    assert right.responses("REGISTER") == [401, 200], right.describe()
    assert fs.registrations() == ["1001@acme.example.net"]


def test_another_tenants_password_does_not_register_the_same_extension(fs):
    """acme and beta both have 1001: each password opens its own tenant's only."""
    acme, beta = fs.data.customer("acme"), fs.data.customer("beta")
    acme.extension("1001")
    beta.extension("1001")

    crossed = fs.sip.register("1001", "acme.example.net", beta.secret("1001"))
    assert crossed.final_status("REGISTER") == 403, crossed.describe()
    own = fs.sip.register("1001", "beta.example.net", beta.secret("1001"))
    assert own.final_status("REGISTER") == 200, own.describe()
    assert fs.registrations() == ["1001@beta.example.net"]
