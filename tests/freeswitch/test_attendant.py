"""The auto attendant on the real switch: the dialplan hands the call to call control
(``socket``), the caller's keys arrive as RFC 2833 events, the key's destination rings."""

from __future__ import annotations

import pytest

from pbx.actions.ivr import do_create_ivr, do_set_ivr_options

pytestmark = pytest.mark.freeswitch


def attendant(fs, *, dial_by_extension: bool):
    """acme: 1001 calls, 1002 rings (a registered phone), menu 7000 with key 1 → 1002."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    reception = acme.extension("1002")
    menu = do_create_ivr(acme.account, name="Main menu", number="7000", dial_by_extension=dial_by_extension,
                         digit_timeout=1, attendant_timeout=5, max_attempts=1)
    do_set_ivr_options(acme.account, menu, {"1": f"extension:{reception.pk}"})
    phone = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
    return acme, phone


def test_a_key_of_a_one_key_menu_sends_the_caller_to_its_destination(fs):
    """With dial-by-extension off the menu takes one key: collecting ends at once."""
    acme, phone = attendant(fs, dial_by_extension=False)

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "7000", dtmf="1", dtmf_after_ms=500,
                       hold_ms=1500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert len(phone.wait_for_invites(1, timeout=1)) == 1
    assert "app=ivr" in fs.node.callcontrol.log_since(0)


def test_a_key_followed_by_a_pause_sends_the_caller_to_its_destination(fs):
    """With dial-by-extension on the menu waits for more digits; the caller presses 1 and
    stops: after the digit timeout (1 s here) the key counts."""
    acme, phone = attendant(fs, dial_by_extension=True)

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "7000", dtmf="1", dtmf_after_ms=500,
                       hold_ms=2500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert len(phone.wait_for_invites(1, timeout=1)) == 1
