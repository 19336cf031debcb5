"""A caller who hangs up while call control runs a menu on the real switch: the
call-control server ends that session (it logs the call with its outcome only after
dropping it from its live sessions) without an error, and FreeSWITCH keeps no channel."""

from __future__ import annotations

import time

import pytest

from pbx.actions.ivr import do_create_ivr, do_set_ivr_options

pytestmark = pytest.mark.freeswitch


def test_a_caller_hanging_up_during_the_attendant_menu_leaves_no_session_and_no_error(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    reception = acme.extension("1002")
    # Long enough that the menu is still waiting for a key when the caller hangs up.
    menu = do_create_ivr(acme.account, name="Main menu", number="7000", dial_by_extension=False,
                         digit_timeout=1, attendant_timeout=10, max_attempts=3)
    do_set_ivr_options(acme.account, menu, {"1": f"extension:{reception.pk}"})
    mark = fs.node.callcontrol.log_size()

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "7000", hold_ms=1500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert call.received("BYE") == []  # the phone hung up, not the menu
    deadline = time.monotonic() + 5
    log = fs.node.callcontrol.log_since(mark)
    while "app=ivr" not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = fs.node.callcontrol.log_since(mark)
    (ended,) = [line for line in log.splitlines() if "app=ivr" in line]
    assert ": caller hung up" in ended, ended
    assert "Traceback" not in log and "error:" not in log and "failed" not in log, log
    assert "play_and_get_digits" in fs.log()  # the menu was collecting when the BYE came
    # `show channels` reads FreeSWITCH's core database, written after the channel is gone.
    deadline = time.monotonic() + 3
    while not fs.api("show channels count").strip().startswith("0 total") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fs.api("show channels count").strip().startswith("0 total"), fs.api("show channels")
