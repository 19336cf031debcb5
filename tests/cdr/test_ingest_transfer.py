"""A leg rung after a caller's blind transfer (cdr.ingest.fields_of; the real switch's
variables, from tests/freeswitch/test_cdr_more_shapes.py): the called party's leg, sent
through the dialplan by the REFER, originates the new phone's leg, which names the call's
first leg only in ``switchboard_call``."""

from __future__ import annotations

import uuid

from cdr.ingest import fields_of, parse
from tests.cdr.test_ingest_links import CALLER, post

CALLED = "5a0d3b7e-2f0c-4d55-9a3c-1c2e8e6f9b10"


def test_a_phone_rung_from_a_transferred_leg_belongs_to_the_callers_call():
    rung = fields_of(parse(post(direction="outbound", originator=CALLED, switchboard_call=CALLER,
                                dialed_user="1003", switchboard_dest_kind="extension")))
    assert (rung.leg, str(rung.call_uuid), str(rung.other_leg_uuid)) == ("b", CALLER, CALLED)


def test_without_the_mark_a_b_leg_belongs_to_its_originators_call():
    rung = fields_of(parse(post(direction="outbound", originator=CALLER, dialed_user="1002")))
    assert str(rung.call_uuid) == CALLER
    # The caller's own leg carries the mark with its own uuid: it stays an a-leg.
    own = str(uuid.uuid4())
    caller = fields_of(parse(post(uuid=own, direction="inbound", user_name="1001", switchboard_call=own)))
    assert (caller.leg, str(caller.call_uuid)) == ("a", own)
