"""Forwarding star codes dialed from a phone on the real switch (docs/routing.md §
Feature codes): ``*72<number>`` sets the busy forward through call control's
``forwarding`` app, a number the extension may not call (Jamaica, international off:
issue 16 hole 2) is refused and changes nothing, ``*072`` switches the forward off."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from pbx.models import Extension

pytestmark = pytest.mark.freeswitch


def busy_forward(customer, number: str) -> tuple[bool, str]:
    with schema_context(customer.account.schema_name):
        extension = Extension.objects.get(number=number)
        return extension.forward_busy, extension.forward_busy_to


def wait_for_busy_forward(customer, number: str, expected: tuple[bool, str], timeout: float = 3.0):
    """The app writes as the call ends: read until it shows ``expected`` or time is up."""
    deadline = time.monotonic() + timeout
    seen = busy_forward(customer, number)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = busy_forward(customer, number)
    return seen


def test_star_72_sets_the_busy_forward_and_star_072_clears_it(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    assert busy_forward(acme, "1001") == (False, "")

    refused = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "*728769261234", hold_ms=1500)
    assert refused.final_status("INVITE") == 200, refused.describe()
    assert "invalid_entry" in fs.log()  # the app refused it ("that was an invalid entry")
    assert busy_forward(acme, "1001") == (False, "")

    set_call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "*722125550123", hold_ms=1500)
    assert set_call.final_status("INVITE") == 200, set_call.describe()
    assert wait_for_busy_forward(acme, "1001", (True, "external:+12125550123")) == \
        (True, "external:+12125550123")
    assert "call_forwarding_has_been_set" in fs.log()

    cleared = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "*072", hold_ms=1500)
    assert cleared.final_status("INVITE") == 200, cleared.describe()
    # Off; the destination stays stored for the next *72.
    assert wait_for_busy_forward(acme, "1001", (False, "external:+12125550123")) == \
        (False, "external:+12125550123")
    assert "app=forwarding" in fs.node.callcontrol.log_since(0)
