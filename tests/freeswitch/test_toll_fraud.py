"""Issue 16 hole 2 on the real switch: with international calling off, NANP numbers
outside the account's country (+1 876, Jamaica) and premium-rate ones (+1 900) are
refused by the dialplan and never reach the carrier; an ordinary +1 212 number does."""

from __future__ import annotations

import pytest

from carriers.actions import do_create_trunk

pytestmark = pytest.mark.freeswitch

BARRED = {"Jamaica": "+18769261234", "premium rate": "+19005551234"}
DOMESTIC = "+12125550123"


def test_nanp_international_and_premium_numbers_are_barred_before_the_carrier(fs):
    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    assert acme.account.allow_international is False and acme.account.allow_premium_rate is False
    acme.extension("1001")  # call permission: domestic (the default)
    do_create_trunk(fs.data.admin, fs.data.admin.account, name="Carrier", rules=[],
                    gateways=[{"server": "127.0.0.1", "port": carrier.port, "transport": "udp"}])

    refused = {what: fs.sip.call("1001", "acme.example.net", acme.secret("1001"), number, hold_ms=300)
               for what, number in BARRED.items()}

    # OUTGOING_CALL_BARRED is 403 on the wire (sofia's cause-to-status table).
    assert {what: call.final_status("INVITE") for what, call in refused.items()} == \
        {what: 403 for what in BARRED}, {what: call.describe() for what, call in refused.items()}
    assert carrier.invites() == []
    log = fs.log()
    for number in BARRED.values():
        assert f"->{number} in context acme.example.net" in log
    assert "OUTGOING_CALL_BARRED" in log

    # The same phone, trunk and permission do reach the carrier with a domestic number.
    allowed = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), DOMESTIC, hold_ms=300)
    (invite,) = carrier.wait_for_invites(1)
    assert DOMESTIC.lstrip("+") in invite.request_uri
    assert allowed.final_status("INVITE") == 486, allowed.describe()
