"""Webhooks from the real switch: the node manager in the call-control process sees the
channel events of a call (fsnodes.call_events), the webhooks receiver writes one
delivery per event, and a delivery reaches a real local HTTP receiver signed."""

from __future__ import annotations

import time

import pytest

from cdr.models import CallRecord
from tests.webhooks.receiver import Receiver
from webhooks.actions import do_create_webhook
from webhooks.models import WebhookDelivery
from webhooks.tasks import sweep

pytestmark = pytest.mark.freeswitch

CALL_EVENTS = ["call.started", "call.answered", "call.ended"]


def deliveries(hook, expected: int, timeout: float = 15.0) -> list[WebhookDelivery]:
    deadline = time.monotonic() + timeout
    while True:
        rows = list(WebhookDelivery.objects.filter(webhook=hook).order_by("pk"))
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_an_answered_call_sends_started_answered_and_ended_signed(fs, settings):
    # The receiver listens on 127.0.0.1; deliveries are made here, by the sweep (the
    # call-control process queued them on a broker no worker of this test reads).
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    receiver = Receiver()
    try:
        acme = fs.data.customer("acme")
        acme.extension("1001")
        acme.extension("1002")
        hook, receiver.secret = do_create_webhook(acme.account, actor=None, url=receiver.url,
                                                  events=CALL_EVENTS)
        globex = fs.data.customer("globex")
        stranger, _ = do_create_webhook(globex.account, actor=None, url=receiver.url, events=CALL_EVENTS)
        callee = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
        call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=500)
        assert call.final_status("INVITE") == 200, call.describe()
        assert callee.answered() == 1
        rows = deliveries(hook, 3)
        assert [row.event for row in rows] == CALL_EVENTS, [(r.event, r.payload) for r in rows]
        started, answered, ended = (row.payload for row in rows)
        assert started["account_id"] == acme.account.pk and started["destination_kind"] == "extension"
        assert (started["caller_number"], started["destination"], started["direction"]) == (
            "1001", "1002", "internal")
        assert answered["answered_at"] is not None
        assert ended["hangup_cause"] == "NORMAL_CLEARING" and ended["billsec"] is not None
        assert len({payload["call_uuid"] for payload in (started, answered, ended)}) == 1
        # The call's uuid is its a-leg's, as in the call records.
        a_leg = CallRecord.objects.filter(caller_number="1001", leg="a").first()
        deadline = time.monotonic() + 15
        while a_leg is None and time.monotonic() < deadline:
            time.sleep(0.2)
            a_leg = CallRecord.objects.filter(caller_number="1001", leg="a").first()
        assert a_leg is not None and str(a_leg.leg_uuid) == ended["call_uuid"]
        for _ in range(50):
            sweep()
            if len(receiver.requests) >= 3:
                break
            time.sleep(0.1)
        requests = receiver.wait_for(3)
        assert [r.document["type"] for r in requests] == CALL_EVENTS
        assert all(r.verified for r in requests)
        assert not WebhookDelivery.objects.filter(webhook=stranger).exists()
    finally:
        receiver.close()


def test_a_callers_blind_transfer_ends_every_call_it_started(fs):
    """1001 calls 1002 and transfers 1002 to 1003 (REFER from the caller): the caller's
    leg ends at once, and 1002's leg, sent through the dialplan, rings 1003 itself. Each
    call the events started (keyed by the leg that originated its legs) also ends."""
    from tests.freeswitch.test_cdr_more_shapes import talk_then_hang_up

    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    acme.extension("1003")
    hook, _ = do_create_webhook(acme.account, actor=None, url="https://hooks.example.com/calls",
                                events=CALL_EVENTS)
    fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
    target = fs.sip.phone("1003", "acme.example.net", acme.secret("1003"))
    call = fs.sip.transferring_call("1001", "acme.example.net", acme.secret("1001"), "1002", refer_to="1003")
    assert call.final_status("REFER") == 202, call.describe()
    talk_then_hang_up(fs, lambda: None, target)

    # Every leg's end is in once the call records of the three legs are.
    deadline = time.monotonic() + 15
    while CallRecord.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = deliveries(hook, 6)  # the caller's call, and the one the transferred leg made
    events: dict[str, list[str]] = {}
    for row in rows:
        events.setdefault(row.payload["call_uuid"], []).append(row.event)
    assert all(kinds[0] == "call.started" and kinds[-1] == "call.ended" for kinds in events.values()), events
