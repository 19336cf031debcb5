"""Calls between extensions on the real switch: the directory's dial-string and the
dialplan's bridge, as FreeSWITCH runs them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pbx.actions import do_create_ring_group, do_set_follow_me, do_set_ring_group_members

pytestmark = pytest.mark.freeswitch


def test_an_extension_calls_another_which_rings_and_answers(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    callee = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)

    assert call.responses("INVITE")[-1] == 200, call.describe()
    (invite,) = callee.invites()
    assert invite.request_uri.startswith("sip:1002@")
    assert "1001" in invite.header("From")
    assert callee.answered() == 1


def test_a_call_to_an_unregistered_extension_goes_to_its_voicemail(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    not_registered = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"), register=False)

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)

    assert call.final_status("INVITE") == 200, call.describe()  # answered by the switch
    assert not_registered.invites() == []
    assert "EXECUTE [depth=0] sofia/internal/1001@acme.example.net voicemail(" in fs.log()


# Issue 12 defect 3. Each case: which phones register for the called extension.
SEVERAL_CONTACTS = {
    "two devices": ("1005", [("1005", "acme.example.net"), ("1005-2", "acme.example.net")]),
    "a phone on the alias domain": ("1002", [("1002", "acme.localhost")]),
}


@pytest.mark.parametrize("case", SEVERAL_CONTACTS, ids=list(SEVERAL_CONTACTS))
def test_every_registered_contact_of_the_called_extension_gets_the_invite(fs, case):
    number, registrations = SEVERAL_CONTACTS[case]
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension(number, devices=len(registrations))
    phones = [fs.sip.phone(username, domain, acme.secret(username)) for username, domain in registrations]
    registered = sorted(fs.registrations())
    assert registered == sorted(f"{username}@{domain}" for username, domain in registrations)

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), number, hold_ms=1000)

    assert call.final_status("INVITE") == 200, call.describe()
    # The INVITEs go out as the call is set up: by now (hung up) every phone had its chance.
    rang = {f"{phone.user}@{phone.domain}": len(phone.wait_for_invites(1, timeout=0.5)) for phone in phones}
    assert rang == {name: 1 for name in registered}
    assert "Only calling the first element" not in fs.log()


def test_a_ring_group_member_with_two_devices_rings_both(fs):
    """Each member of a group rings as all its devices (the group's legs are siblings of
    one originate, like the extension's)."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    member = acme.extension("1005", devices=2)
    group = do_create_ring_group(acme.account, number="2000", name="Sales", ring_seconds=10)
    do_set_ring_group_members(acme.account, group, [(f"extension:{member.pk}", None, True)])
    phones = [fs.sip.phone(name, "acme.example.net", acme.secret(name)) for name in ("1005", "1005-2")]

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "2000", hold_ms=500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert [len(phone.wait_for_invites(1, timeout=0.5)) for phone in phones] == [1, 1]


def test_directed_pickup_answers_a_call_ringing_every_device_of_the_extension(fs):
    """1002's two devices ring (they never answer: recorders that say 180); 1003 dials
    *81002 and takes the call: the pickup leg beside the phones still works."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002", devices=2)
    acme.extension("1003")
    ringing = []
    for username in ("1002", "1002-2"):
        device = fs.sip.recorder(answer=180)
        registered = fs.sip.register(username, "acme.example.net", acme.secret(username),
                                     contact_port=device.port)
        assert registered.final_status("REGISTER") == 200, registered.describe()
        ringing.append(device)

    with ThreadPoolExecutor(1) as background:
        caller = background.submit(fs.sip.call, "1001", "acme.example.net", acme.secret("1001"), "1002",
                                   hold_ms=500)
        assert [len(device.wait_for_invites(1, timeout=5)) for device in ringing] == [1, 1]
        picker = fs.sip.call("1003", "acme.example.net", acme.secret("1003"), "*81002", hold_ms=1500)
        call = caller.result(timeout=30)

    assert picker.final_status("INVITE") == 200, picker.describe()
    assert call.final_status("INVITE") == 200, call.describe()
    assert "pickup(" in fs.log()


def test_a_follow_me_step_rings_every_device_of_its_extension(fs):
    """Follow-me runs in call control, which bridges the step's legs over the event
    socket (``[^^;...]${sofia_contact(...)}`` per device and domain): both of 1005's
    devices get the INVITE. The step has a second target (1006, not registered): with
    ``user/`` legs two targets made a forked dial and only 1005's first device rang."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    desk = acme.extension("1002")
    other = acme.extension("1005", devices=2)
    absent = acme.extension("1006")
    do_set_follow_me(acme.account, desk, steps=[
        {"ring_seconds": 5, "confirm": False,
         "targets": [f"extension:{other.pk}", f"extension:{absent.pk}"]}])
    phones = [fs.sip.phone(name, "acme.example.net", acme.secret(name)) for name in ("1005", "1005-2")]

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)

    assert call.final_status("INVITE") == 200, call.describe()
    assert [len(phone.wait_for_invites(1, timeout=0.5)) for phone in phones] == [1, 1]
    # Call control logs each call when it ends.
    deadline = time.monotonic() + 3
    while "app=follow_me" not in fs.node.callcontrol.log_since(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "app=follow_me" in fs.node.callcontrol.log_since(0)
