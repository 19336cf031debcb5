"""Call records of the call shapes test_cdr_shapes.py does not cover, on the real switch
(issue 15): a carrier's call to a DID that an auto attendant sends on to a queue or a ring
group, a blind transfer a phone makes with SIP REFER, and a group pickup. Every leg is
stored, attributed to the tenant, and linked to the call by the caller's leg's uuid."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.freeswitch.test_cdr_shapes import assert_one_call, records, shape

pytestmark = pytest.mark.freeswitch

DID = "+16045550100"
CALLER = "+14165550123"
# Long enough for anything to ring and answer whatever the machine's load: the tests hang
# up themselves once the phone they wait for talks (talk_then_hang_up).
HOLD_MS = 30_000


def bridged_to(fs, phone) -> bool:
    """The switch has a call bridged with ``phone``'s leg (its presence id): a bridge made
    before a transfer, still listed a moment after (the core's calls table is written
    by its SQL thread), does not count."""
    rows = json.loads(fs.api("show bridged_calls as json")).get("rows", [])
    presence = f"{phone.user}@{phone.domain}"
    return any(presence in (row.get("presence_id"), row.get("b_presence_id")) for row in rows)


def talk_then_hang_up(fs, place_call, phone, answers: int = 1):
    """Place the call in the background, wait until ``phone`` answered ``answers`` calls
    and the switch has its leg bridged, then hang everything up (NORMAL_CLEARING); the
    call's sipp result."""
    with ThreadPoolExecutor(1) as background:
        call = background.submit(place_call)
        assert phone.wait_answered(answers, timeout=15) == answers, fs.log()[-5000:]
        deadline = time.monotonic() + 5
        while not bridged_to(fs, phone) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bridged_to(fs, phone), fs.api("show bridged_calls as json")
        fs.api("hupall NORMAL_CLEARING")
        return call.result(timeout=30)


def did_to_attendant(fs, key_destination):
    """acme holds DID, routed to menu 7000; key 1 goes to ``key_destination(acme)``."""
    from pbx.actions.ivr import do_create_ivr, do_set_ivr_options
    from pbx.numbers import do_assign_number, do_import_numbers, do_route_number

    acme = fs.data.customer("acme")
    menu = do_create_ivr(acme.account, name="Main menu", number="7000", dial_by_extension=False,
                         digit_timeout=1, attendant_timeout=5, max_attempts=1)
    do_set_ivr_options(acme.account, menu, {"1": key_destination(acme)})
    (number,) = do_import_numbers(fs.data.admin, [DID])
    number = do_assign_number(fs.data.admin, number, acme.account)
    do_route_number(acme.account, number, route=f"ivr:{menu.pk}")
    return acme


def queue_of_1005(acme) -> str:
    from pbx.actions.queues import Agent, do_create_queue, do_set_queue_agents

    agent = acme.extension("1005")
    queue = do_create_queue(acme.account, number="6000", name="Support", agent_ring_seconds=5)
    do_set_queue_agents(acme.account, queue, [Agent(agent.pk)])
    return f"queue:{queue.pk}"


def ring_group_of_1005(acme) -> str:
    from pbx.actions.ringgroups import do_create_ring_group, do_set_ring_group_members

    member = acme.extension("1005")
    group = do_create_ring_group(acme.account, number="2000", name="Sales", ring_seconds=10)
    do_set_ring_group_members(acme.account, group, [(f"extension:{member.pk}", None, True)])
    return f"ring_group:{group.pk}"


@pytest.mark.parametrize(("key_destination", "kind"), [(queue_of_1005, "queue"),
                                                        (ring_group_of_1005, "ring_group")])
def test_a_carrier_call_to_a_did_through_the_attendant(fs, key_destination, kind):
    """The carrier's leg (context public, no account of its own on the wire) and the
    agent's or member's leg are the DID holder's, the caller's leg names the DID and the
    attendant, both name where the key sent the call."""
    acme = did_to_attendant(fs, key_destination)
    phone = fs.sip.phone("1005", "acme.example.net", acme.secret("1005"))

    call = talk_then_hang_up(fs, lambda: fs.sip.carrier_call(DID, CALLER, dtmf="1", hold_ms=HOLD_MS), phone)

    assert call.final_status("INVITE") == 200, call.describe()
    rows = records(2)
    caller = assert_one_call(rows, acme.account)
    assert (caller.direction, caller.did, caller.caller_number, caller.app, caller.destination_kind) == (
        "inbound", DID, CALLER, "ivr", kind), shape(rows)
    (answered,) = [r for r in rows if r.leg == "b"]
    assert (answered.extension, answered.destination_kind, answered.direction, answered.did,
            answered.hangup_cause) == ("1005", kind, "inbound", DID, "NORMAL_CLEARING"), shape(rows)
    assert answered.answer_at is not None and caller.answer_at is not None


def test_a_blind_transfer_by_refer_keeps_the_callers_call(fs):
    """1001 calls 1002, whose phone answers and transfers the call to 1003 with a REFER:
    sofia sends the caller's leg (1002's partner) through the dialplan again, which
    rings 1003 from it. The three legs are one call, the caller's."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    acme.extension("1003")
    transferring = fs.sip.transferring_phone("1002", "acme.example.net", acme.secret("1002"), refer_to="1003")
    target = fs.sip.phone("1003", "acme.example.net", acme.secret("1003"))

    def place_call():
        return fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=HOLD_MS)

    call = talk_then_hang_up(fs, place_call, target)

    assert call.final_status("INVITE") == 200, call.describe()
    refer_answers = [m.status for m in transferring.messages() if m.direction == "received"
                     and m.cseq_method == "REFER"]
    assert refer_answers[-1:] == [202], refer_answers
    rows = records(3)
    caller = assert_one_call(rows, acme.account)
    assert (caller.extension, caller.callee_number, caller.destination_kind) == ("1001", "1002", "extension")
    by_extension = {r.extension: r for r in rows if r.leg == "b"}
    assert set(by_extension) == {"1002", "1003"}, shape(rows)
    assert by_extension["1003"].destination_kind == "extension"
    assert by_extension["1003"].answer_at is not None and by_extension["1002"].answer_at is not None


def test_a_blind_transfer_by_the_caller_keeps_the_callers_call(fs):
    """1001 calls 1002 and transfers 1002 to 1003 with a REFER: sofia sends 1002's leg
    (one we originated) through the dialplan, which rings 1003 from it. The legs are
    still the call 1001 made."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    acme.extension("1003")
    called = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
    target = fs.sip.phone("1003", "acme.example.net", acme.secret("1003"))

    call = fs.sip.transferring_call("1001", "acme.example.net", acme.secret("1001"), "1002", refer_to="1003")

    assert call.final_status("INVITE") == 200 and call.final_status("REFER") == 202, call.describe()
    assert called.answered() == 1
    # The caller's leg ended with the transfer; 1002 and 1003 talk until hung up here.
    talk_then_hang_up(fs, lambda: None, target)
    rows = records(3)
    (caller,) = [r for r in rows if r.leg == "a"]
    by_extension = {r.extension: r for r in rows if r.leg == "b"}
    assert set(by_extension) == {"1002", "1003"}, shape(rows)
    for row in rows:
        assert (row.account_id, row.call_uuid) == (acme.account.pk, caller.leg_uuid), shape(rows)
    assert (caller.extension, caller.callee_number, caller.destination_kind) == ("1001", "1002", "extension")
    # 1003's leg was originated by 1002's (sent through the dialplan by the transfer).
    assert by_extension["1002"].other_leg_uuid == caller.leg_uuid
    assert by_extension["1003"].other_leg_uuid == by_extension["1002"].leg_uuid
    rung = by_extension["1003"]
    assert (rung.destination_kind, rung.callee_number) == ("extension", "1003")
    assert rung.answer_at is not None


def test_a_group_pickup_joins_the_call_it_picked_up(fs):
    """1001 calls ring group 2000 (member 1002, whose phone rings and never answers);
    1003 dials the group's pickup code and takes the call."""
    from pbx.actions.ringgroups import do_create_ring_group, do_set_ring_group_members

    acme = fs.data.customer("acme")
    acme.extension("1001")
    member = acme.extension("1002")
    acme.extension("1003")
    group = do_create_ring_group(acme.account, number="2000", name="Sales", ring_seconds=20,
                                 pickup_code="*877")
    do_set_ring_group_members(acme.account, group, [(f"extension:{member.pk}", None, True)])
    ringing = fs.sip.recorder(answer=180)
    registered = fs.sip.register("1002", "acme.example.net", acme.secret("1002"), contact_port=ringing.port)
    assert registered.final_status("REGISTER") == 200, registered.describe()
    with ThreadPoolExecutor(1) as background:
        # The caller stays on longer than the picker, as in the directed pickup's test.
        caller_call = background.submit(fs.sip.call, "1001", "acme.example.net", acme.secret("1001"), "2000",
                                        hold_ms=3000)
        assert len(ringing.wait_for_invites(1, timeout=5)) == 1
        picker = fs.sip.call("1003", "acme.example.net", acme.secret("1003"), "*877", hold_ms=1500)
        call = caller_call.result(timeout=30)
    assert picker.final_status("INVITE") == 200 and call.final_status("INVITE") == 200, picker.describe()
    rows = records(3)
    caller = assert_one_call(rows, acme.account)
    assert (caller.extension, caller.callee_number, caller.destination_kind) == ("1001", "2000", "ring_group")
    by_extension = {r.extension: r for r in rows if r.leg == "b"}
    assert by_extension["1002"].hangup_cause == "LOSE_RACE", shape(rows)
    took = by_extension["1003"]
    assert (took.destination_kind, took.callee_number, took.hangup_cause) == (
        "pickup", "*877", "NORMAL_CLEARING"), shape(rows)
    assert took.answer_at is not None and took.billsec >= 1
