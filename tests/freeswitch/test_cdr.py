"""Call records from the real switch: mod_json_cdr with our deploy configuration posts
every leg to the web server, which stores each once, attributed by the variables our
dialplan exports."""

from __future__ import annotations

import time

import pytest

from cdr.models import CallRecord

pytestmark = pytest.mark.freeswitch


def records_of(caller_number: str, expected: int, timeout: float = 15.0) -> list[CallRecord]:
    deadline = time.monotonic() + timeout
    while True:
        found = list(CallRecord.objects.filter(caller_number=caller_number).order_by("leg", "start_at"))
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_both_legs_of_an_extension_call_are_stored_once_and_attributed(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    callee = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)
    assert call.responses("INVITE")[-1] == 200, call.describe()
    assert callee.answered() == 1
    records = records_of("1001", expected=2)
    a_legs = [r for r in records if r.leg == "a"]
    phone_legs = [r for r in records if r.leg == "b" and r.extension == "1002"]
    assert len(a_legs) == 1 and len(phone_legs) == 1, [(r.leg, r.extension, r.gateway) for r in records]
    a_leg, b_leg = a_legs[0], phone_legs[0]
    for record in (a_leg, b_leg):
        assert record.account_id == acme.account.pk
        assert record.account_path == acme.account.path
        assert record.destination_kind == "extension"
        assert record.direction == "internal"
        assert record.call_uuid == a_leg.leg_uuid
        assert record.answer_at is not None and record.hangup_cause == "NORMAL_CLEARING"
    assert a_leg.extension == "1001" and a_leg.callee_number == "1002"
    assert b_leg.other_leg_uuid == a_leg.leg_uuid
    # Every leg once: no duplicate whatever FreeSWITCH retried.
    assert len({r.leg_uuid for r in records}) == len(records)


def test_an_outside_call_names_its_trunk_on_the_carrier_leg(fs):
    from carriers.actions import do_create_trunk

    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    acme.extension("1001")
    trunk = do_create_trunk(fs.data.admin, fs.data.admin.account, name="Carrier", rules=[],
                            gateways=[{"server": "127.0.0.1", "port": carrier.port, "transport": "udp"}])
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "+12125550123", hold_ms=500)
    carrier.wait_for_invites(1)
    assert call.final_status("INVITE") == 486, call.describe()
    records = records_of("1001", expected=2)
    by_leg = {r.leg: r for r in records}
    assert set(by_leg) == {"a", "b"}, [(r.leg, r.gateway) for r in records]
    a_leg, carrier_leg = by_leg["a"], by_leg["b"]
    assert carrier_leg.gateway == f"gw{trunk.gateways.get().pk}"
    assert carrier_leg.trunk_id == trunk.pk
    assert carrier_leg.other_leg_uuid == a_leg.leg_uuid == carrier_leg.call_uuid
    for record in (a_leg, carrier_leg):
        assert record.account_id == acme.account.pk
        assert record.direction == "outbound"
        assert record.destination_kind == "outbound"
        assert record.answer_at is None and record.billsec == 0
    assert a_leg.callee_number == "+12125550123"
