"""Calls from the carriers' side on the real switch: an INVITE to the external profile
(context ``public``, no authentication) whose request user is a DID reaches the route of
the account holding that number; a DID nobody holds is unallocated; a caller the account
blocked is rejected."""

from __future__ import annotations

import pytest

from pbx.actions.blocking import do_add_call_block
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number

pytestmark = pytest.mark.freeswitch

DID = "+16045550100"
UNKNOWN_DID = "+16045550999"
CALLER = "+14165550123"
BLOCKED_CALLER = "+14165550111"


def carrier_call(fs, did: str, caller: str, *, hold_ms: int = 500):
    """An INVITE as a carrier sends it: to the external port, from ``caller``, no auth."""
    return fs.sip.run_sipp(fs.sip.bundle.scenarios / "uac_call.xml", target=fs.sip.external,
                           keys={"from_user": caller, "from_domain": "127.0.0.1", "to_domain": "127.0.0.1",
                                 "hold_ms": str(hold_ms)},
                           extra=["-s", did])


def test_a_did_rings_its_route_an_unknown_did_is_unallocated_and_a_blocked_caller_is_rejected(fs):
    acme = fs.data.customer("acme")
    reception = acme.extension("1001")
    (number,) = do_import_numbers(fs.data.admin, [DID])
    number = do_assign_number(fs.data.admin, number, acme.account)
    do_route_number(acme.account, number, route=f"extension:{reception.pk}")
    do_add_call_block(acme.account, pattern=BLOCKED_CALLER)
    phone = fs.sip.phone("1001", "acme.example.net", acme.secret("1001"))

    answered = carrier_call(fs, DID, CALLER)

    assert answered.final_status("INVITE") == 200, answered.describe()
    (invite,) = phone.wait_for_invites(1)
    assert CALLER.lstrip("+") in invite.header("From"), invite.header("From")
    assert phone.answered() == 1

    unknown = carrier_call(fs, UNKNOWN_DID, CALLER)
    blocked = carrier_call(fs, DID, BLOCKED_CALLER)

    # UNALLOCATED_NUMBER and CALL_REJECTED as sofia puts them on the wire.
    assert unknown.final_status("INVITE") == 404, unknown.describe()
    assert blocked.final_status("INVITE") == 603, blocked.describe()
    assert len(phone.invites()) == 1
    log = fs.log()
    assert "UNALLOCATED_NUMBER" in log and "CALL_REJECTED" in log
