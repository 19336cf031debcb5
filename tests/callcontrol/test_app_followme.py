"""Find-me/follow-me: every step outcome, confirmation, busy handling, voicemail offer,
recorded names, fallback (seeds 000, 001)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from callcontrol.apps.common import BEEP, not_in_service_prompt
from callcontrol.apps.followme import (
    ACCEPT_CALL,
    BUSY_CAUSES,
    CONFIRM_SECONDS,
    OFFER_VOICEMAIL,
    RECORD_NAME,
)
from carriers.actions import do_create_trunk
from pbx.actions import do_add_call_block, do_add_device, do_set_follow_me
from pbx.followme import RINGBACK
from pbx.media import STOCK_MOH
from pbx.models import VoicemailBox
from tenants.actions import do_update_account
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    args_of,
    bridge_outcomes,
    dial,
    executed,
    hangups,
    pbx,  # noqa: F401 (fixture)
    transfer_of,
    wait_for_nth,
)
from tests.pbx.routing_helpers import extension, ref

MOBILE = "+14165550123"


@pytest.fixture
def setup(tree):
    c1 = tree.c1
    do_update_account(tree.user("r1_admin"), c1, outbound_caller_id="+14165550100",
                      country="CA")  # a Toronto company: the Toronto mobile is domestic
    c1.refresh_from_db()
    trunk = do_create_trunk(tree.user("master_admin"), tree.master, name="A", weight_cost=10,
                            rules=[r"^\+(1\d{10})$"], gateways=[{"server": "a.carrier.example.com"}])
    alice = extension(c1, "1001", "Alice")
    desk = extension(c1, "1002", "Desk")
    with schema_context(c1.schema_name):
        box = VoicemailBox.objects.get(extension=alice)
    gateway = f"gw{trunk.gateways.get().pk}"

    def follow(**fields):
        fields.setdefault("steps", [
            {"ring_seconds": 10, "confirm": False, "targets": [ref(alice), ref(desk)]},
            {"ring_seconds": 20, "confirm": True, "targets": [f"external:{MOBILE}"]},
        ])
        return do_set_follow_me(c1, alice, **fields)

    return type("Setup", (), dict(c1=c1, alice=alice, desk=desk, box=box, gateway=gateway,
                                  follow=staticmethod(follow)))


def variables_set(call) -> list[tuple[str, str]]:
    return [tuple(arg.split("=", 1)) for arg in args_of(call, "set")]


def legs(dial_string: str) -> list[str]:
    assert dial_string.startswith("{leg_timeout=")
    return dial_string.split("}", 1)[1].split(",")


def run(pbx, setup, follow_me, *outcomes, press=None):  # noqa: F811
    call = dial(pbx, setup.c1, "follow_me", follow_me.pk)
    dialed = bridge_outcomes(call, *outcomes)
    if press:
        press(call)
    finish(pbx, call, timeout=5)
    return call, dialed


def phone(number: str, device: str, extra: str = "leg_timeout=10") -> str:
    """The follow-me legs to one device of an extension (pbx.ringing): on each of c1's
    domains, the primary first."""
    user = f"dialed_user={number};dialed_domain=c1.example.net;presence_id={number}@c1.example.net"
    return ",".join(f"[^^;{user};sip_invite_domain={domain};{extra}]${{sofia_contact(*/{device}@{domain})}}"
                    for domain in ("c1.example.net", "c1.localhost"))


def test_first_step_answered(pbx, setup):  # noqa: F811
    """Every device of a step's extensions rings (issue 12 defect 3): alice's one, the
    desk's two."""
    do_add_device(setup.c1, setup.alice)
    do_add_device(setup.c1, setup.desk)
    do_add_device(setup.c1, setup.desk)
    call, dialed = run(pbx, setup, setup.follow(), "SUCCESS")
    assert dialed == ["{leg_timeout=10}" + ",".join([phone("1001", "1001"), phone("1002", "1002"),
                                                     phone("1002", "1002-2")])]
    assert variables_set(call) == [
        ("ringback", RINGBACK), ("transfer_ringback", RINGBACK), ("ignore_early_media", "true"),
        ("instant_ringback", "true"), ("fail_on_single_reject", BUSY_CAUSES),
        # A step reaches a carrier: the caller's SIP headers are not copied to its legs.
        ("sip_copy_custom_headers", "false"), ("sip_copy_multipart", "false"),
        # Before the first bridge (CallSession.bridge): a step that fails returns to us.
        ("continue_on_fail", "true"),
    ]
    assert "answer" not in [name for name, _ in executed(call)]  # the answering leg answers it
    assert transfer_of(call) == "" and hangups(call) == ["NORMAL_CLEARING"]


@pytest.mark.parametrize("cause", ["ALLOTTED_TIMEOUT", "USER_NOT_REGISTERED", "CALL_REJECTED"])
def test_an_unanswered_step_goes_on_to_the_next_and_the_fallback(pbx, setup, cause):  # noqa: F811
    """Issue 12 defect 2: the legs' leg_timeout ends an unanswered step with
    ALLOTTED_TIMEOUT, after which FreeSWITCH hung the caller up (no continue_on_fail)."""
    call, dialed = run(pbx, setup, setup.follow(fallback=ref(setup.desk)), cause, cause)
    assert len(dialed) == 2 and not call.hung_up
    assert transfer_of(call) == f"~{ref(setup.desk)}"


def test_external_step_with_confirmation_accepted(pbx, setup):  # noqa: F811
    call, dialed = run(pbx, setup, setup.follow(), "NO_ANSWER", "SUCCESS")
    assert len(dialed) == 2
    [mobile] = legs(dialed[1])
    assert mobile.endswith(f"]sofia/gateway/{setup.gateway}/{MOBILE[1:]}")  # the trunk rule strips +
    separator = mobile[len("[^^")]  # ";" unless a value holds one (our Diversion does)
    variables = dict(item.split("=", 1) for item in mobile[len("[^^;"):mobile.index("]")].split(separator))
    assert variables["group_confirm_key"] == "1"
    assert variables["group_confirm_file"] == ACCEPT_CALL
    assert variables["group_confirm_timeout"] == str(CONFIRM_SECONDS)
    assert variables["leg_timeout"] == str(20 + CONFIRM_SECONDS)
    assert variables["origination_caller_id_number"] == "+14165550100"  # the carrier route's
    # Our Diversion (the extension's number), the only header of ours besides caller ID.
    assert variables["sip_h_Diversion"] == "<sip:+14165550100@c1.example.net>;reason=follow-me;counter=1"
    assert transfer_of(call) == ""


@pytest.mark.parametrize("cause", ["NO_ANSWER", "ALLOTTED_TIMEOUT", "NORMAL_CLEARING"],
                         ids=["not answered", "confirmation timed out", "rejected (wrong key)"])
def test_no_one_takes_the_call_then_voicemail(pbx, setup, cause):  # noqa: F811
    call, dialed = run(pbx, setup, setup.follow(), "NO_ANSWER", cause)
    assert len(dialed) == 2
    assert transfer_of(call) == f"~voicemail:{setup.box.pk}"


def test_fallback_destination(pbx, setup):  # noqa: F811
    call, _ = run(pbx, setup, setup.follow(fallback=ref(setup.desk)), "NO_ANSWER", "NO_ANSWER")
    assert transfer_of(call) == f"~{ref(setup.desk)}"


def test_busy_ends_the_step_by_default(pbx, setup):  # noqa: F811
    call, dialed = run(pbx, setup, setup.follow(), "USER_BUSY", "SUCCESS")
    assert ("fail_on_single_reject", BUSY_CAUSES) in variables_set(call)
    assert len(dialed) == 2  # the call went on to the next step, it did not end


def test_ignore_busy_keeps_the_others_ringing(pbx, setup):  # noqa: F811
    call, dialed = run(pbx, setup, setup.follow(ignore_busy=True), "USER_BUSY", "NO_ANSWER")
    assert "fail_on_single_reject" not in dict(variables_set(call))
    assert len(dialed) == 2 and transfer_of(call) == f"~voicemail:{setup.box.pk}"


def test_offer_voicemail_accepted(pbx, setup):  # noqa: F811
    def press(call):
        offer = wait_for_nth(call, "play_and_get_digits", 1)
        assert offer.arg.split(" ")[5] == OFFER_VOICEMAIL
        call.press("1")

    call, dialed = run(pbx, setup, setup.follow(offer_voicemail=True), "NO_ANSWER", press=press)
    assert len(dialed) == 1 and transfer_of(call) == f"~voicemail:{setup.box.pk}"
    assert [name for name, _ in executed(call)].count("answer") == 1


def test_offer_voicemail_declined(pbx, setup):  # noqa: F811
    def press(call):
        wait_for_nth(call, "play_and_get_digits", 1)
        call.press("2")

    call, dialed = run(pbx, setup, setup.follow(offer_voicemail=True), "NO_ANSWER", "SUCCESS", press=press)
    assert len(dialed) == 2 and transfer_of(call) == ""


def test_recorded_name_is_announced_to_the_answerer(pbx, setup):  # noqa: F811
    call, dialed = run(pbx, setup, setup.follow(record_name=True), "NO_ANSWER", "SUCCESS")
    [record] = args_of(call, "record")
    path = record.split(" ")[0]
    assert path == f"/tmp/followme-name-{call.uuid}.wav"
    assert args_of(call, "playback") == [RECORD_NAME, BEEP]
    assert ("api_hangup_hook", f"system /bin/rm -f {path}") in variables_set(call)
    desk, _ = legs(dialed[0])[0], None
    assert f"group_confirm_key=exec;group_confirm_file=playback {path}]error/user_not_registered" in desk
    assert desk.startswith("[^^;dialed_user=1001;")
    [mobile] = legs(dialed[1])
    assert f"group_confirm_file=file_string://{path}!{ACCEPT_CALL}" in mobile


def test_hold_music_instead_of_ringback(pbx, setup):  # noqa: F811
    from pbx.actions import do_create_moh_group

    group = do_create_moh_group(setup.c1, name="Jazz")
    call, _ = run(pbx, setup, setup.follow(moh_group=group), "SUCCESS")
    assert ("ringback", STOCK_MOH) in variables_set(call)  # no ready track yet: the stock music


def test_a_refused_external_number_is_left_out(pbx, setup):  # noqa: F811
    do_add_call_block(setup.c1, pattern=MOBILE, direction="outgoing", comment="no mobiles")
    call, dialed = run(pbx, setup, setup.follow(), "NO_ANSWER")
    assert len(dialed) == 1 and transfer_of(call) == f"~voicemail:{setup.box.pk}"


def test_disabled_follow_me_goes_to_the_fallback(pbx, setup):  # noqa: F811
    follow_me = setup.follow(enabled=False, fallback=ref(setup.desk))
    call, dialed = run(pbx, setup, follow_me)
    assert dialed == [] and transfer_of(call) == f"~{ref(setup.desk)}"


def test_closed_active_hours_skip_the_steps(pbx, setup):  # noqa: F811
    pytest.importorskip("pbx.schedules")
    from pbx.actions.schedules import do_create_schedule

    closed = do_create_schedule(setup.c1, name="Never open", default_action="closed")
    call, dialed = run(pbx, setup, setup.follow(active_hours=closed))
    assert dialed == [] and transfer_of(call) == f"~voicemail:{setup.box.pk}"


def test_open_active_hours_ring_the_steps(pbx, setup):  # noqa: F811
    pytest.importorskip("pbx.schedules")
    from pbx.actions.schedules import do_create_schedule

    always = do_create_schedule(setup.c1, name="Always open", default_action="open")
    call, dialed = run(pbx, setup, setup.follow(active_hours=always), "SUCCESS")
    assert len(dialed) == 1 and transfer_of(call) == ""


@pytest.mark.parametrize("stage", ["recording", "ringing", "offer"])
def test_caller_hangs_up(pbx, setup, stage):  # noqa: F811
    follow_me = setup.follow(record_name=stage == "recording", offer_voicemail=stage == "offer")
    call = dial(pbx, setup.c1, "follow_me", follow_me.pk)
    bridge_outcomes(call, "NO_ANSWER")
    app = {"recording": "record", "ringing": "bridge", "offer": "play_and_get_digits"}[stage]
    if stage == "ringing":
        call.behaviours.pop("bridge")
    call.hold.add(app)
    wait_for_nth(call, app, 1)
    call.hangup()
    finish(pbx, call)
    assert transfer_of(call) == "" and hangups(call) == []


def test_another_tenants_follow_me(pbx, setup, tree):  # noqa: F811
    """c1 has no follow-me at all: c2's pk names nothing in c1's schema."""
    theirs = extension(tree.c2, "1001", "Zed")
    other = do_set_follow_me(tree.c2, theirs, steps=[
        {"ring_seconds": 10, "confirm": False, "targets": [ref(theirs)]}])
    call = dial(pbx, setup.c1, "follow_me", other.pk)
    finish(pbx, call)
    assert executed(call) == [("answer", ""), ("playback", not_in_service_prompt())]
    assert hangups(call) == ["UNALLOCATED_NUMBER"]


def test_the_route_explainer_describes_what_the_app_rings(pbx, setup):  # noqa: F811
    """explain_route reads the same plan (pbx.followme): its steps are the legs the app
    bridged, in order, and its end is where the app sent the call."""
    from pbx.explain import explain_route

    follow_me = setup.follow()
    decisions = explain_route(setup.c1, "1002", "1001")
    steps = [d.detail for d in decisions if d.rule == "follow_me_step"]
    call, dialed = run(pbx, setup, follow_me, "NO_ANSWER", "NO_ANSWER")
    bridged = [tuple(leg.split("]", 1)[1] for leg in legs(dial_string)) for dial_string in dialed]
    assert steps == bridged
    assert transfer_of(call) == f"~voicemail:{setup.box.pk}"
    assert "Voicemail box 1001 takes a message." in [d.text for d in decisions]
