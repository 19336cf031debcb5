"""An extension's own call blocks on the real switch (issue 14, My phone): a carrier's
call from a number extension 1001 blocks, routed to 1001, is rejected at 1001's lookup
in the tenant's context (the ``blocked-callers`` extension: ``${user_name}`` empty on a
carrier's transferred call, the caller's number matching) with the same CALL_REJECTED
(603) as an account-wide block, and 1001's phone never rings; the same caller to 1002,
which blocks nobody, rings 1002's phone; a colleague's phone calling 1001 is not an
outside caller and rings it."""

from __future__ import annotations

import pytest

from pbx.actions.blocking import do_add_call_block
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number

pytestmark = pytest.mark.freeswitch

TO_1001 = "+16045550200"
TO_1002 = "+16045550201"
PEST = "+14165550111"


def carrier_call(fs, did: str, caller: str, *, hold_ms: int = 500):
    """An INVITE as a carrier sends it: to the external port, from ``caller``, no auth."""
    return fs.sip.run_sipp(fs.sip.bundle.scenarios / "uac_call.xml", target=fs.sip.external,
                           keys={"from_user": caller, "from_domain": "127.0.0.1", "to_domain": "127.0.0.1",
                                 "hold_ms": str(hold_ms)},
                           extra=["-s", did])


def test_a_caller_blocked_by_one_extension_is_rejected_there_and_rings_another(fs):
    acme = fs.data.customer("acme")
    alice, bob = acme.extension("1001"), acme.extension("1002")
    for did, extension in ((TO_1001, alice), (TO_1002, bob)):
        (number,) = do_import_numbers(fs.data.admin, [did])
        number = do_assign_number(fs.data.admin, number, acme.account)
        do_route_number(acme.account, number, route=f"extension:{extension.pk}")
    do_add_call_block(acme.account, pattern=PEST, extension=alice)
    alices_phone = fs.sip.phone("1001", "acme.example.net", acme.secret("1001"))
    bobs_phone = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))

    blocked = carrier_call(fs, TO_1001, PEST)
    to_bob = carrier_call(fs, TO_1002, PEST)

    assert blocked.final_status("INVITE") == 603, blocked.describe()  # CALL_REJECTED, as sofia sends it
    assert to_bob.final_status("INVITE") == 200, to_bob.describe()
    (invite,) = bobs_phone.wait_for_invites(1)
    assert PEST.lstrip("+") in invite.header("From"), invite.header("From")
    assert alices_phone.invites() == []
    assert "CALL_REJECTED" in fs.log()

    # A colleague's phone (an authenticated user_name) is not an outside caller, even when
    # a block's national form would match its extension number (+1100* reads 100...).
    do_add_call_block(acme.account, pattern="+1100*", extension=alice)
    colleague = fs.sip.call("1002", "acme.example.net", acme.secret("1002"), "1001", hold_ms=500)
    assert colleague.final_status("INVITE") == 200, colleague.describe()
    assert len(alices_phone.wait_for_invites(1)) == 1
