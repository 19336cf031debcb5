"""fsnodes.call_events: channel events in the shapes the real switch sends them
(tests/freeswitch/test_webhooks.py checks those on the switch) become one call.started,
at most one call.answered and one call.ended per call and account."""

from __future__ import annotations

from fsnodes.call_events import CallTracker

A_LEG = "7e9b45de-d4c3-4e3b-abde-b136244a673e"
B_LEG = "46797604-cd9f-46fe-88b4-471ca4e9f2e9"
PICKUP_LEG = "59d40e69-8112-45d5-a084-4722883306c4"
CREATED = "1796641782188209"


def a_leg(name: str, **extra: str) -> dict[str, str]:
    return {"Event-Name": name, "Unique-ID": A_LEG, "Call-Direction": "inbound",
            "Caller-Caller-ID-Number": "1001", "Caller-Caller-ID-Name": "Alice",
            "Caller-Destination-Number": "1002", "Channel-Name": "sofia/internal/1001@acme.example.net",
            "Caller-Channel-Created-Time": CREATED, **extra}


def b_leg(name: str, uuid: str = B_LEG, account: str = "2", **extra: str) -> dict[str, str]:
    return {"Event-Name": name, "Unique-ID": uuid, "Call-Direction": "outbound",
            "variable_switchboard_account": account, "variable_originator": A_LEG,
            "variable_switchboard_dest_kind": "extension", "Caller-Caller-ID-Number": "1001",
            "Caller-Destination-Number": "1002", "Channel-Name": "sofia/internal/1002@127.0.0.1:13494",
            "Caller-Channel-Created-Time": "1796641782228213", **extra}


MARKED = {"variable_switchboard_account": "2", "variable_switchboard_dest_kind": "extension"}


def events(tracker: CallTracker, *sequence: dict[str, str]) -> list[tuple[str, int, dict]]:
    out = []
    for headers in sequence:
        out += tracker.feed(headers, "node-1")
    return out


def test_an_extension_call_starts_when_the_phone_rings_and_ends_with_the_caller():
    tracker = CallTracker()
    sent = events(
        tracker,
        a_leg("CHANNEL_CREATE"),  # the dialplan has not run: no account yet
        b_leg("CHANNEL_CREATE"),
        b_leg("CHANNEL_ANSWER", **{"Caller-Channel-Answered-Time": "1796641783000000"}),
        b_leg("CHANNEL_HANGUP_COMPLETE", uuid=PICKUP_LEG),  # the extension's pickup leg
        a_leg("CHANNEL_ANSWER", **MARKED),
        b_leg("CHANNEL_HANGUP_COMPLETE"),
        a_leg("CHANNEL_HANGUP_COMPLETE", **MARKED, **{
            "Caller-Channel-Answered-Time": "1796641783000000",
            "Caller-Channel-Hangup-Time": "1796641784000000",
            "variable_duration": "2", "variable_billsec": "1", "Hangup-Cause": "NORMAL_CLEARING"}),
    )
    assert [(event, account) for event, account, _ in sent] == [
        ("call.started", 2), ("call.answered", 2), ("call.ended", 2)]
    started, answered, ended = (payload for _, _, payload in sent)
    assert started == {
        "call_uuid": A_LEG, "account_id": 2, "direction": "internal", "caller_number": "1001",
        "caller_name": "", "destination": "1002", "did": "", "destination_kind": "extension",
        "started_at": "2026-12-07T11:09:42.228213+00:00", "answered_at": None, "node": "node-1"}
    assert answered["answered_at"] == "2026-12-07T11:09:43+00:00"
    assert ended["started_at"] == "2026-12-07T11:09:42.188209+00:00"  # the caller's leg, exactly
    assert (ended["ended_at"], ended["duration"], ended["billsec"], ended["hangup_cause"]) == (
        "2026-12-07T11:09:44+00:00", 2, 1, "NORMAL_CLEARING")
    assert tracker.calls == {}


def test_a_b_leg_event_after_the_callers_hangup_does_not_start_the_call_again():
    """Seen on the real switch: the b-leg's last event reached us after the a-leg's
    CHANNEL_HANGUP_COMPLETE, and sent a second call.started after call.ended."""
    tracker = CallTracker()
    sent = events(
        tracker,
        b_leg("CHANNEL_CREATE"),
        b_leg("CHANNEL_ANSWER"),
        a_leg("CHANNEL_HANGUP_COMPLETE", **MARKED),
        b_leg("CHANNEL_HANGUP_COMPLETE"),
    )
    assert [event for event, _, _ in sent] == ["call.started", "call.answered", "call.ended"]
    assert tracker.calls == {}


def test_a_call_nothing_rang_for_starts_at_its_answer_or_its_end():
    tracker = CallTracker()
    kind = "variable_switchboard_dest_kind"
    ivr = events(tracker, a_leg("CHANNEL_CREATE"), a_leg("CHANNEL_ANSWER", **{**MARKED, kind: "ivr"}),
                 a_leg("CHANNEL_HANGUP_COMPLETE", **{**MARKED, kind: "voicemail"}))
    assert [e for e, _, _ in ivr] == ["call.started", "call.answered", "call.ended"]
    assert ivr[0][2]["destination_kind"] == "ivr" and ivr[2][2]["destination_kind"] == "voicemail"
    # (Each call its own tracker: a call uuid is never reused, and an ended one is ignored.)
    refused = events(CallTracker(), a_leg("CHANNEL_CREATE"), a_leg("CHANNEL_HANGUP_COMPLETE", **MARKED,
                                                                **{"Hangup-Cause": "CALL_REJECTED"}))
    assert [e for e, _, _ in refused] == ["call.started", "call.ended"]
    assert refused[1][2]["hangup_cause"] == "CALL_REJECTED" and refused[1][2]["answered_at"] is None
    # A call that never names an account (a phone's unauthenticated attempt) sends nothing.
    assert events(CallTracker(), a_leg("CHANNEL_CREATE"), a_leg("CHANNEL_HANGUP_COMPLETE")) == []


def test_an_on_net_call_starts_and_ends_for_both_tenants_and_a_did_call_is_inbound():
    tracker = CallTracker()
    sent = events(tracker, a_leg("CHANNEL_CREATE"),
                  b_leg("CHANNEL_CREATE", account="7", variable_switchboard_did="+14165550123"),
                  a_leg("CHANNEL_HANGUP_COMPLETE", **MARKED))
    assert [(e, a) for e, a, _ in sent] == [("call.started", 7), ("call.started", 2), ("call.ended", 7),
                                            ("call.ended", 2)]
    assert sent[0][2]["direction"] == "inbound" and sent[0][2]["did"] == "+14165550123"


def test_a_leg_originated_without_an_a_leg_is_its_own_call_and_forgotten_calls_are_bounded():
    tracker = CallTracker(max_calls=2)
    alone = {"Event-Name": "CHANNEL_CREATE", "Unique-ID": "u-1", "Call-Direction": "outbound",
             "variable_switchboard_account": "3", "Channel-Name": "sofia/gateway/gw4/+12125550123",
             "Caller-Destination-Number": "+12125550123"}
    (started,) = tracker.feed(alone)
    assert started[2]["call_uuid"] == "u-1" and started[2]["direction"] == "outbound"
    for uuid in ("u-2", "u-3"):
        tracker.feed({**alone, "Unique-ID": uuid})
    assert list(tracker.calls) == ["u-2", "u-3"]
    # The evicted call's end comes late: it starts and ends again, rather than never ending.
    late = tracker.feed({**alone, "Event-Name": "CHANNEL_HANGUP_COMPLETE"})
    assert [e for e, _, _ in late] == ["call.started", "call.ended"]


def test_a_call_the_manager_originates_carries_its_accounts_marks(make_node, fake_fs, start_manager):
    """manager.originate(account=…) names the account and kind on the new leg, as the
    dialplan does for a phone's call: its record is attributed and its events are sent."""
    from tests.fsnodes.manager_helpers import wait_for

    node = make_node(fake_fs)
    manager = start_manager()
    wait_for(lambda: manager.connection("fs-a").connected, what="fs-a to connect")
    call_uuid = manager.originate("sofia/gateway/gw4/+12125550123", "&park()", node=node, timeout=20,
                                  account=42, destination_kind="outbound")
    sent = next(r.command for r in fake_fs.received if r.command.startswith("bgapi originate"))
    assert sent == (f"bgapi originate {{origination_uuid={call_uuid},originate_timeout=20,"
                    "switchboard_account=42,switchboard_dest_kind=outbound}"
                    "sofia/gateway/gw4/+12125550123 &park()")
