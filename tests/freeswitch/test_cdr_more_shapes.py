"""Call records of the call shapes test_cdr_shapes.py does not cover, on the real switch
(issue 15): a carrier's call to a DID that an auto attendant sends on to a queue or a ring
group, a blind transfer a phone makes with SIP REFER, and a group pickup. Every leg is
stored, attributed to the tenant, and linked to the call by the caller's leg's uuid."""

from __future__ import annotations

import pytest

from tests.freeswitch.test_cdr_shapes import assert_one_call, records, shape

pytestmark = pytest.mark.freeswitch

DID = "+16045550100"
CALLER = "+14165550123"


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

    # Held long enough for the key's destination to ring and answer before the carrier hangs up.
    call = fs.sip.carrier_call(DID, CALLER, dtmf="1", dtmf_after_ms=500, hold_ms=3000)

    assert call.final_status("INVITE") == 200, call.describe()
    assert phone.answered() == 1
    rows = records(2)
    caller = assert_one_call(rows, acme.account)
    assert (caller.direction, caller.did, caller.caller_number, caller.app, caller.destination_kind) == (
        "inbound", DID, CALLER, "ivr", kind), shape(rows)
    (answered,) = [r for r in rows if r.leg == "b"]
    assert (answered.extension, answered.destination_kind, answered.direction, answered.did,
            answered.hangup_cause) == ("1005", kind, "inbound", DID, "NORMAL_CLEARING"), shape(rows)
    assert answered.answer_at is not None and caller.answer_at is not None
