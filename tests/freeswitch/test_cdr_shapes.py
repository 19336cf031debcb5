"""Call records of every call shape on the real switch (issue 15): each leg stored,
attributed to its account, its destination kind named, and the legs of one call linked
by the caller's leg's uuid -- an auto attendant that transfers, a conference, a queue
(mod_callcenter's agent leg), voicemail, a follow-me step's outside leg, and a directed
pickup."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cdr.models import CallRecord

pytestmark = pytest.mark.freeswitch


def records(expected: int, timeout: float = 15.0) -> list[CallRecord]:
    """Every stored leg once ``expected`` are in (and a moment for a late one), oldest
    first."""
    deadline = time.monotonic() + timeout
    while CallRecord.objects.count() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    return list(CallRecord.objects.order_by("start_at"))


def shape(rows: list[CallRecord]) -> list[tuple]:
    return [(r.leg, r.extension, r.destination_kind, r.app, r.hangup_cause) for r in rows]


def assert_one_call(rows: list[CallRecord], account) -> CallRecord:
    """Every leg is the account's and part of one call, keyed by the caller's leg."""
    (caller,) = [r for r in rows if r.leg == "a"]
    for row in rows:
        assert (row.account_id, row.account_path) == (account.pk, account.path), shape(rows)
        assert row.call_uuid == caller.leg_uuid, shape(rows)
    for row in rows:
        if row.leg == "b":
            assert row.other_leg_uuid == caller.leg_uuid, shape(rows)
    assert len({r.leg_uuid for r in rows}) == len(rows)
    return caller


def test_an_auto_attendant_that_transfers_to_an_extension(fs):
    from pbx.actions.ivr import do_create_ivr, do_set_ivr_options

    acme = fs.data.customer("acme")
    acme.extension("1001")
    reception = acme.extension("1002")
    menu = do_create_ivr(acme.account, name="Main menu", number="7000", dial_by_extension=False,
                         digit_timeout=1, attendant_timeout=5, max_attempts=1)
    do_set_ivr_options(acme.account, menu, {"1": f"extension:{reception.pk}"})
    phone = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
    # Held long enough for the transfer's ring and answer to finish before the caller hangs up.
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "7000", dtmf="1", dtmf_after_ms=500,
                       hold_ms=3000)
    assert call.final_status("INVITE") == 200, call.describe()
    assert phone.answered() == 1
    rows = records(2)
    caller = assert_one_call(rows, acme.account)
    # The caller's leg ran the attendant (its app) and was transferred: the kind is where
    # it ended up, the number it dialed is the attendant's.
    assert (caller.extension, caller.callee_number, caller.app, caller.destination_kind) == (
        "1001", "7000", "ivr", "extension")
    (rung,) = [r for r in rows if r.leg == "b"]
    assert (rung.extension, rung.destination_kind, rung.hangup_cause) == (
        "1002", "extension", "NORMAL_CLEARING")
    assert rung.answer_at is not None and caller.answer_at is not None


def test_a_conference_call(fs):
    from pbx.actions import do_create_conference_room

    acme = fs.data.customer("acme")
    acme.extension("1001")
    do_create_conference_room(acme.account, number="3000", name="Board room")
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "3000", hold_ms=1500)
    assert call.final_status("INVITE") == 200, call.describe()
    (caller,) = records(1)
    assert_one_call([caller], acme.account)
    assert (caller.callee_number, caller.destination_kind, caller.app, caller.direction) == (
        "3000", "conference", "conference", "internal")
    assert caller.billsec >= 1


def test_a_queue_call_links_the_agent_leg_mod_callcenter_originates(fs):
    from pbx.actions.queues import Agent, do_create_queue, do_set_queue_agents

    acme = fs.data.customer("acme")
    acme.extension("1001")
    agent = acme.extension("1005")
    queue = do_create_queue(acme.account, number="6000", name="Support", agent_ring_seconds=5)
    do_set_queue_agents(acme.account, queue, [Agent(agent.pk)])
    phone = fs.sip.phone("1005", "acme.example.net", acme.secret("1005"))
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "6000", hold_ms=2500)
    assert call.final_status("INVITE") == 200, call.describe()
    assert phone.answered() == 1
    rows = records(2)
    caller = assert_one_call(rows, acme.account)
    assert (caller.callee_number, caller.destination_kind) == ("6000", "queue")
    # mod_callcenter originates the agent's leg itself (no originator): it names the
    # caller in cc_member_session_uuid, and is stored as the call's answering leg.
    (answered,) = [r for r in rows if r.leg == "b"]
    assert (answered.extension, answered.destination_kind, answered.hangup_cause) == (
        "1005", "queue", "NORMAL_CLEARING")


def test_a_call_to_voicemail(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")  # no phone registered: its box answers
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=1500)
    assert call.final_status("INVITE") == 200, call.describe()
    rows = records(1)
    caller = assert_one_call([r for r in rows if r.leg == "a"], acme.account)
    assert (caller.callee_number, caller.destination_kind, caller.answer_at is not None) == (
        "1002", "voicemail", True)
    # The phone's leg that found no registration, if FreeSWITCH made one, is the call's too.
    assert_one_call(rows, acme.account)


def test_a_follow_me_outside_leg_is_attributed_with_its_trunk(fs):
    """Call control bridges a follow-me step from the caller's session, so the carrier
    leg carries the caller's exported marks: the account, and the trunk by its gateway."""
    from carriers.actions import do_create_trunk
    from pbx.actions import do_set_follow_me

    carrier = fs.sip.recorder(answer=486)
    acme = fs.data.customer("acme")
    acme.extension("1001")
    desk = acme.extension("1002")
    trunk = do_create_trunk(fs.data.admin, fs.data.admin.account, name="Carrier", rules=[],
                            gateways=[{"server": "127.0.0.1", "port": carrier.port, "transport": "udp"}])
    do_set_follow_me(acme.account, desk, steps=[
        {"ring_seconds": 5, "confirm": False, "targets": ["external:+12125550123"]}])
    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=1000)
    carrier.wait_for_invites(1)
    assert call.final_status("INVITE") == 200, call.describe()  # the box answers after the step
    rows = records(2)
    caller = assert_one_call(rows, acme.account)
    (outside,) = [r for r in rows if r.leg == "b"]
    assert (outside.gateway, outside.trunk_id, outside.direction, outside.hangup_cause) == (
        f"gw{trunk.gateways.get().pk}", trunk.pk, "outbound", "USER_BUSY")
    assert (outside.destination_kind, outside.callee_number) == ("follow_me", "12125550123")
    # The caller's leg: the follow-me app ran, then (nobody answered) the box took the call.
    assert (caller.app, caller.destination_kind, caller.callee_number) == ("follow_me", "voicemail", "1002")


def test_a_directed_pickup_leg_joins_the_call_it_picked_up(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    acme.extension("1003")
    ringing = fs.sip.recorder(answer=180)
    registered = fs.sip.register("1002", "acme.example.net", acme.secret("1002"), contact_port=ringing.port)
    assert registered.final_status("REGISTER") == 200, registered.describe()
    with ThreadPoolExecutor(1) as background:
        # The caller stays on longer than the picker (1.5 s), so the picked-up leg talks
        # for more than a second whatever the machine's load (CI once saw billsec 0).
        caller_call = background.submit(fs.sip.call, "1001", "acme.example.net", acme.secret("1001"), "1002",
                                        hold_ms=3000)
        assert len(ringing.wait_for_invites(1, timeout=5)) == 1
        picker = fs.sip.call("1003", "acme.example.net", acme.secret("1003"), "*81002", hold_ms=1500)
        call = caller_call.result(timeout=30)
    assert picker.final_status("INVITE") == 200 and call.final_status("INVITE") == 200, picker.describe()
    rows = records(3)
    caller = assert_one_call(rows, acme.account)
    assert (caller.extension, caller.callee_number) == ("1001", "1002")
    by_extension = {r.extension: r for r in rows if r.leg == "b"}
    # The phone that rang lost the race; the picker's own leg is the call's answering leg.
    assert by_extension["1002"].hangup_cause == "LOSE_RACE"
    took = by_extension["1003"]
    assert (took.destination_kind, took.callee_number, took.hangup_cause) == (
        "pickup", "*81002", "NORMAL_CLEARING")
    assert took.answer_at is not None and took.billsec >= 1
