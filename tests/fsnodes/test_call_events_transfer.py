"""fsnodes.call_events after a caller's blind transfer, in the order the real switch sends
the events (tests/freeswitch/test_webhooks.py): the caller's leg ends right after its
REFER, the called party's leg (a b-leg of that call) rings the new phone itself, and the
call those two make ends with the called party's leg."""

from __future__ import annotations

from fsnodes.call_events import CallTracker
from tests.fsnodes.test_call_events import A_LEG, B_LEG, MARKED, a_leg, b_leg, events

NEW_LEG = "0b3c52a4-5f61-4d1e-9a57-3d8b1f0e2c77"


def test_the_call_the_transferred_leg_makes_ends_with_that_leg():
    tracker = CallTracker()
    sent = events(
        tracker,
        a_leg("CHANNEL_CREATE"),
        b_leg("CHANNEL_CREATE"),
        b_leg("CHANNEL_ANSWER"),
        # The REFER: 1002's leg goes through the dialplan and rings 1003 from itself.
        b_leg("CHANNEL_CREATE", uuid=NEW_LEG, variable_originator=B_LEG),
        a_leg("CHANNEL_HANGUP_COMPLETE", **MARKED),
        b_leg("CHANNEL_ANSWER", uuid=NEW_LEG, variable_originator=B_LEG),
        b_leg("CHANNEL_HANGUP_COMPLETE"),
        b_leg("CHANNEL_HANGUP_COMPLETE", uuid=NEW_LEG, variable_originator=B_LEG),
    )
    assert [(event, payload["call_uuid"]) for event, _, payload in sent] == [
        ("call.started", A_LEG), ("call.answered", A_LEG),
        ("call.started", B_LEG), ("call.ended", A_LEG), ("call.answered", B_LEG), ("call.ended", B_LEG)]
    assert tracker.calls == {}
