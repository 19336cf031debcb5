"""Legs that FreeSWITCH does not mark as originated by the call they belong to, read as
that call's answering leg (cdr.ingest.fields_of; the real switch's variables, from
tests/freeswitch/test_cdr_shapes.py): mod_callcenter's agent leg and a pickup."""

from __future__ import annotations

import json
import uuid

from cdr.ingest import fields_of, parse

CALLER = "49f54a04-1e7c-42ec-bcfa-7ecf04a01c1a"


def post(**variables: str) -> bytes:
    base = {"uuid": str(uuid.uuid4()), "start_uepoch": "1796641782188209",
            "start_stamp": "2026-12-07 11:09:42"}
    return json.dumps({"variables": {**base, **variables},
                       "callflow": [{"caller_profile": {"context": "acme.example.net",
                                                        "destination_number": "1005",
                                                        "caller_id_number": "1001"}}]}).encode()


def test_a_queue_agents_leg_is_the_answering_leg_of_the_waiting_callers_call():
    agent = fields_of(parse(post(direction="outbound", cc_member_session_uuid=CALLER, dialed_user="1005",
                                 signal_bond=CALLER, user_name="")))
    assert (agent.leg, str(agent.call_uuid), str(agent.other_leg_uuid)) == ("b", CALLER, CALLER)
    assert (agent.extension, agent.destination_kind) == ("1005", "queue")
    # A leg the caller itself bridged keeps its own originator and kind.
    rung = fields_of(parse(post(direction="outbound", originator=CALLER, dialed_user="1002",
                                switchboard_dest_kind="extension")))
    assert (rung.leg, str(rung.call_uuid), rung.destination_kind) == ("b", CALLER, "extension")


def test_a_phone_that_picked_up_joins_the_call_it_took():
    picker = fields_of(parse(post(direction="inbound", user_name="1003", picked_up_uuid=str(uuid.uuid4()),
                                  bridge_uuid=CALLER, switchboard_dest_kind="extension")))
    assert (picker.leg, str(picker.call_uuid), str(picker.other_leg_uuid)) == ("b", CALLER, CALLER)
    assert (picker.extension, picker.destination_kind) == ("1003", "pickup")
    # A phone's own call, bridged to someone, is not a pickup.
    own = fields_of(parse(post(direction="inbound", user_name="1001", bridge_uuid=CALLER)))
    assert (own.leg, own.call_uuid == own.leg_uuid) == ("a", True)
