"""Outside calls leave through a trunk's gateway on the carriers' profile: the gateway
comes from our sofia.conf after the rescan the trunk's creation queued for the node."""

from __future__ import annotations

import pytest

from carriers.actions import do_create_trunk

pytestmark = pytest.mark.freeswitch


def test_an_outside_call_reaches_the_carrier_gateway_of_the_platform_trunk(fs):
    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    acme.extension("1001")
    do_create_trunk(fs.data.admin, fs.data.admin.account, name="Carrier", rules=[],
                    gateways=[{"server": "127.0.0.1", "port": carrier.port, "transport": "udp"}])
    gateways = fs.api("sofia status gateway")
    assert f"sip:127.0.0.1:{carrier.port}" in gateways or f"127.0.0.1:{carrier.port}" in gateways, gateways

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "+12125550123", hold_ms=500)

    (invite,) = carrier.wait_for_invites(1)
    # E.164 digits without the "+": a trunk's default number format (Trunk.number_format).
    assert invite.request_uri.startswith("sip:12125550123@127.0.0.1"), invite.first_line
    assert call.final_status("INVITE") == 486, call.describe()
