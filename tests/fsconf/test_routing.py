"""Where every call goes (issue 5's routing rules), through the real xml_curl endpoint:
each test dials from the captured INVITE of 1001@acme and follows the transfers the way
FreeSWITCH would (``walk``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from pbx.actions import (
    do_add_device,
    do_create_extension,
    do_create_ivr,
    do_create_ring_group,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.models import Destination, Extension
from pbx.routing import TRANSFER_PROOF_VARIABLE
from tests.conftest import route_to
from tests.fsconf.replay import replay, replay_document, response
from tests.fsconf.test_dialplan import actions, rings
from tests.fsconf.test_outbound import dial_body
from tests.fsconf.transfers import as_our_transfer, proof_set_by
from tests.ringing import ACME, phone_endpoints

DOMAIN = "acme.example.net"


def lookup(dialed: str, proof: str | None = None):
    """The document for 1001 dialing ``dialed``. A ``~`` number comes with the proof of
    our own transfer: ``proof``, or (None) the one our transfer to it would set."""
    from lxml import etree

    if proof is None and dialed.startswith("~"):
        proof = as_our_transfer(DOMAIN, dialed)[TRANSFER_PROOF_VARIABLE]
    result = replay(dial_body(dialed, **({TRANSFER_PROOF_VARIABLE: proof} if proof else {})))
    assert result.status_code == 200, result.content
    return etree.fromstring(result.content)


def dial(dialed: str) -> list[tuple[str, str]]:
    return actions(lookup(dialed))


def walk(dialed: str, disposition: str = "NO_ANSWER", limit: int = 10) -> list[list[tuple[str, str]]]:
    """Every lookup FreeSWITCH makes for a call to ``dialed``: transfers are followed,
    with the proof each document sets (so a document that forgets it ends the walk);
    ringing that ends in ``~after:`` ends with ``disposition``."""
    hops = []
    proof = None
    for _ in range(limit):
        root = lookup(dialed, proof)
        found = actions(root)
        hops.append(found)
        application, data = found[-1]
        if application != "transfer":
            return hops
        dialed = data.split(" ")[0].replace("${originate_disposition}", disposition)
        proof = proof_set_by(root)
    raise AssertionError(f"more than {limit} transfers: {hops}")


def ext(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


def last(hops: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return hops[-1]


VOICEMAIL_1002 = [("answer", ""), ("voicemail", f"default {DOMAIN} 1002")]


class TestExtensionCall:
    """Forward-all first, then DND, then ring all devices for ring seconds, then busy /
    no-answer / not-registered forwards, then voicemail."""

    def test_unanswered_call_goes_to_voicemail(self, acme_beta):
        hops = walk("1002", "NO_ANSWER")
        assert rings(acme_beta.c1, "1002") in hops[0]
        assert ("set", "call_timeout=25") in hops[0]
        assert last(hops) == VOICEMAIL_1002

    @pytest.mark.parametrize("disposition", ["USER_BUSY", "NO_ANSWER", "USER_NOT_REGISTERED"])
    def test_each_forward_applies_to_its_own_outcome(self, acme_beta, disposition):
        acme = acme_beta.c1
        do_create_extension(acme, number="1003", name="Busy desk")
        do_create_extension(acme, number="1004", name="No answer desk")
        do_create_extension(acme, number="1005", name="Unregistered desk")
        do_update_extension(acme, ext(acme, "1002"),
                            forward_busy=True, forward_busy_to=route_to(acme, "extension", "1003"),
                            forward_no_answer=True, forward_no_answer_to=route_to(acme, "extension", "1004"),
                            forward_unregistered=True,
                            forward_unregistered_to=route_to(acme, "extension", "1005"))
        expected = {"USER_BUSY": "1003", "NO_ANSWER": "1004", "USER_NOT_REGISTERED": "1005"}[disposition]
        hops = _two_hops("1002", disposition)
        assert hops[1][-1] == ("transfer", f"~{route_to(acme, 'extension', expected)} XML {DOMAIN}")

    def test_forward_switched_off_keeps_its_target_but_voicemail_answers(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), forward_busy=True,
                            forward_busy_to=route_to(acme, "extension", "1001"))
        do_update_extension(acme, ext(acme, "1002"), forward_busy=False)
        assert ext(acme, "1002").forward_busy_to == route_to(acme, "extension", "1001")
        assert last(walk("1002", "USER_BUSY")) == VOICEMAIL_1002

    def test_forward_all_comes_before_dnd_and_ringing(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), do_not_disturb=True, forward_all=True,
                            forward_all_to=route_to(acme, "extension", "1001"))
        first = dial("1002")
        assert first == [("transfer", f"~{route_to(acme, 'extension', '1001')} XML {DOMAIN}")]

    def test_dnd_sends_callers_to_voicemail(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), do_not_disturb=True)
        assert dial("1002") == VOICEMAIL_1002

    def test_dnd_with_a_busy_forward_uses_it(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), do_not_disturb=True, forward_busy=True,
                            forward_busy_to=route_to(acme, "extension", "1001"))
        assert dial("1002") == [("transfer", f"~{route_to(acme, 'extension', '1001')} XML {DOMAIN}")]

    def test_without_voicemail_the_outcome_is_the_hangup_cause(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), voicemail_enabled=False)
        assert last(walk("1002", "USER_BUSY")) == [("hangup", "USER_BUSY")]

    def test_call_waiting_off_sends_a_second_call_to_busy_handling(self, acme_beta):
        """FreeSWITCH's limit, one call at a time on the extension; the next caller is
        transferred to the busy outcome instead of ringing."""
        acme = acme_beta.c1
        extension = ext(acme, "1002")
        do_update_extension(acme, extension, call_waiting=False)
        found = dial("1002")
        busy = f"~after:USER_BUSY:extension:{extension.pk}"
        assert found[-3:-1] == [("limit", f"hash {acme.schema_name} extension_{extension.pk} 1 {busy}"),
                                rings(acme, "1002")]
        assert dial(busy) == VOICEMAIL_1002

    def test_disabled_extension_is_unallocated(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), enabled=False)
        assert dial("1002") == [("hangup", "UNALLOCATED_NUMBER")]


def _two_hops(dialed: str, disposition: str) -> list[list[tuple[str, str]]]:
    first = dial(dialed)
    application, data = first[-1]
    assert application == "transfer" and data.startswith("~after:")
    return [first, dial(data.split(" ")[0].replace("${originate_disposition}", disposition))]


def timed(seconds: int, endpoints: list[str]) -> str:
    return ",".join(f"[leg_timeout={seconds}]{endpoint}" for endpoint in endpoints)


# The members of TestRingGroup.make: 1003 with one device, 1004 with two, each on both of
# acme's domains (every phone of a member rings: issue 12 defect 3).
AGENT_1003 = phone_endpoints("1003", ["1003"], ACME)
AGENT_1004 = phone_endpoints("1004", ["1004", "1004-2"], ACME)


class TestRingGroup:
    def make(self, acme, strategy: str, **fields):
        for number, devices in (("1003", 1), ("1004", 2)):
            extension = do_create_extension(acme, number=number, name=f"Agent {number}")
            for _ in range(devices):
                do_add_device(acme, extension)
        group = do_create_ring_group(acme, number="2000", name="Sales", strategy=strategy,
                                     ring_seconds=20, **fields)
        do_set_ring_group_members(acme, group, [
            (route_to(acme, "extension", "1003"), 10, True),
            (route_to(acme, "extension", "1004"), None, True),
            (route_to(acme, "extension", "1001"), 15, False),  # disabled: not rung
        ])
        return group

    def test_simultaneous_rings_everyone_for_the_group_time(self, acme_beta):
        self.make(acme_beta.c1, "simultaneous")
        bridge = dict(dial("2000"))["bridge"]
        assert bridge == timed(20, AGENT_1003 + AGENT_1004)
        assert bridge.count("sofia_contact(*/1004-2@") == 2  # the second device, on both domains

    def test_in_order_rings_each_member_for_its_time_then_the_fallback(self, acme_beta):
        acme = acme_beta.c1
        group = self.make(acme, "in_order", repeat=1,
                          fallback=route_to(acme, "voicemail", "1002"))
        found = dial("2000")
        one_round = f"{timed(10, AGENT_1003)}|{timed(20, AGENT_1004)}"
        assert dict(found)["bridge"] == f"{one_round}|{one_round}"
        assert found[-1] == ("transfer", f"~{route_to(acme, 'voicemail', '1002')} XML {DOMAIN}")
        assert last(walk("2000")) == VOICEMAIL_1002
        assert group.pk

    def test_random_order_changes_between_calls_and_is_never_cached(self, acme_beta):
        acme = acme_beta.c1
        group = self.make(acme, "random")
        members = [route_to(acme, "extension", n) for n in ("1001", "1002", "1003", "1004")]
        for number in ("1005", "1006"):
            do_create_extension(acme, number=number, name=f"Agent {number}")
            members.append(route_to(acme, "extension", number))
        do_set_ring_group_members(acme, group, [(m, None, True) for m in members])
        orders = {dict(dial("2000"))["bridge"] for _ in range(4)}
        # Six members: four identical shuffles in a row happen once in 720**3 calls.
        assert len(orders) > 1
        for order in orders:
            # 1005 and 1006 have no device: one leg each that fails as not registered.
            unregistered = [f"[dialed_user={n},dialed_domain={DOMAIN},presence_id={n}@{DOMAIN}]"
                            "error/user_not_registered" for n in ("1005", "1006")]
            members = [phone_endpoints(n, [n], ACME) for n in ("1001", "1002")] + [AGENT_1003, AGENT_1004]
            assert sorted(order.split("|")) == sorted([timed(20, m) for m in members]
                                                      + [timed(20, [leg]) for leg in unregistered])

    def test_caller_id_prefix_cannot_expand_variables(self, acme_beta):
        self.make(acme_beta.c1, "simultaneous", caller_id_name_prefix="Sales")
        assert ("set", "effective_caller_id_name=Sales ${caller_id_name}") in dial("2000")

    def test_the_pickup_code_answers_a_call_ringing_the_group(self, acme_beta):
        """FreeSWITCH's pickup endpoint rings beside the members for as long as they do;
        the group's code (``pickup <key>``) takes the call. The key names the tenant, so
        another tenant's code cannot reach it."""
        acme = acme_beta.c1
        group = self.make(acme, "in_order", pickup_code="*82000")
        key = f"{acme.schema_name}_ring_group_{group.pk}"
        assert dict(dial("2000"))["bridge"] == (
            f"{timed(10, AGENT_1003)},[leg_timeout=10]pickup/{key}|"
            f"{timed(20, AGENT_1004)},[leg_timeout=20]pickup/{key}")
        assert dial("*82000") == [("pickup", key)]
        found = replay(dial_body("*82000", domain="beta.example.net"))
        assert key.encode() not in found.content

    def test_no_fallback_hangs_up_unanswered(self, acme_beta):
        self.make(acme_beta.c1, "simultaneous")
        assert dial("2000")[-1] == ("hangup", "NO_ANSWER")


class TestCallControlDestinations:
    def test_ivr_number_hands_the_call_to_the_ivr_app(self, acme_beta, settings):
        settings.CALLCONTROL_SOCKET = "10.0.0.5:8084"
        acme = acme_beta.c1
        ivr = do_create_ivr(acme, name="Main menu", number="9000")
        assert dial("9000") == [
            ("set", f"domain_name={DOMAIN}"), ("set", "switchboard_app=ivr"),
            ("set", f"switchboard_ref={ivr.pk}"), ("socket", "10.0.0.5:8084 async full"),
        ]

    def test_socket_address_defaults_to_the_listen_address(self, acme_beta, settings):
        """As in the capture: ``socket 127.0.0.1:8084 async full``."""
        settings.CALLCONTROL_LISTEN = "0.0.0.0:8084"
        do_create_ivr(acme_beta.c1, name="Main menu", number="9000")
        assert dial("9000")[-1] == ("socket", "127.0.0.1:8084 async full")


def test_another_tenants_destination_is_never_reached(acme_beta):
    """An attacker dialing ~extension:<pk> in its own context gets its own row or
    nothing: the pk is looked up in the dialing tenant's schema only."""
    acme, beta = acme_beta.c1, acme_beta.c2
    do_create_extension(acme, number="1003", name="Only in acme")
    target = route_to(acme, "extension", "1003")
    with schema_context(beta.schema_name):
        assert not Extension.objects.filter(pk=ext(acme, "1003").pk).exists()
    found = replay(dial_body(f"~{target}", domain="beta.example.net"))
    assert b"acme" not in found.content
    from lxml import etree

    assert actions(etree.fromstring(found.content)) == [("hangup", "UNALLOCATED_NUMBER")]


class TestCapturedRequests:
    """The captured INVITEs to 2000 and 9000, replayed byte for byte."""

    def test_2000_rings_the_sales_group(self, acme_beta):
        acme = acme_beta.c1
        group = do_create_ring_group(acme, number="2000", name="sales", ring_seconds=25)
        do_set_ring_group_members(acme, group, [(route_to(acme, "extension", n), None, True)
                                                for n in ("1001", "1002")])
        found = actions(replay_document("dialplan-acme-1001-to-2000-group"))
        legs = phone_endpoints("1001", ["1001"], ACME) + phone_endpoints("1002", ["1002"], ACME)
        assert dict(found)["bridge"] == timed(25, legs)

    @pytest.mark.parametrize("name", ["dialplan-acme-1001-to-9000-socket",
                                      "dialplan-loopback-originate-9000"])
    def test_9000_hands_the_call_to_call_control_like_the_capture(self, acme_beta, name):
        from lxml import etree

        do_create_ivr(acme_beta.c1, name="Main menu", number="9000")
        captured = [(a.get("application"), a.get("data"))
                    for a in etree.fromstring(response(name).body).iter("action")]
        assert captured == [("socket", "127.0.0.1:8084 async full")]
        assert actions(replay_document(name))[-1] == captured[0]


@pytest.fixture
def did(acme_beta):
    from tests.fsconf.conftest import acme_main_number

    return acme_main_number(acme_beta, "1002")


def public_document():
    from lxml import etree

    from tests.fsconf.replay import request

    return etree.fromstring(replay(request("dialplan-public-did-14165550100-external-profile")).content)


def matches(expression: str, caller: str) -> bool:
    """As FreeSWITCH evaluates a condition (PCRE; these expressions use no PCRE-only syntax)."""
    import re

    return re.search(expression, caller) is not None


class TestInbound:
    """Blocking → privacy screening → the route, as conditions on the caller's number."""

    def test_blocked_callers_are_rejected_first(self, did, acme_beta):
        from pbx.actions import do_add_call_block

        acme = acme_beta.c1
        do_add_call_block(acme, pattern="+1900*", comment="premium")
        do_add_call_block(acme, pattern="+12125550123", direction="both")
        do_add_call_block(acme, anonymous=True)
        do_add_call_block(acme, pattern="+14165550199", direction="outgoing")
        root = public_document()
        # Only the call record's marks come before it: variables, exported (test_call_record_marks).
        marks, first = root.findall(".//context/extension")[:2]
        assert {a.get("application") for a in marks.iter("action")} == {"export"}
        assert first.get("name") == "blocked-callers"
        condition = first.find("condition")
        assert condition.get("field") == "caller_id_number"
        assert [(a.get("application"), a.get("data")) for a in condition] == [("hangup", "CALL_REJECTED")]
        expression = condition.get("expression")
        for caller in ("+19005551234", "+12125550123", "anonymous", ""):
            assert matches(expression, caller), caller
        for caller in ("+14165550199", "+12125550124", "+1212555012"):
            assert not matches(expression, caller), caller

    def test_outgoing_blocks_stop_calls_out_from_extensions(self, did, acme_beta):
        from pbx.actions import do_add_call_block

        do_add_call_block(acme_beta.c1, pattern="+14165550199", direction="outgoing")
        assert dial("14165550199") == [("hangup", "CALL_REJECTED")]
        assert public_document().find(".//extension[@name='blocked-callers']") is None

    def test_privacy_screening_hands_short_caller_ids_to_the_app(self, did, acme_beta, settings):
        from pbx.numbers import do_set_number_options

        settings.CALLCONTROL_SOCKET = "10.0.0.5:8084"
        do_set_number_options(acme_beta.c1, did, privacy_screening=True, caller_id_name="Acme sales")
        root = public_document()
        screening = root.find(".//extension[@name='privacy-screening']")
        conditions = screening.findall("condition")
        assert [(c.get("field"), c.get("expression")) for c in conditions[:2]] == [
            ("destination_number", "^14165550100$"), ("${switchboard_screened}", "^$")]
        expression = conditions[2].get("expression")
        for caller in ("anonymous", "", "5550123", "Restricted"):
            assert matches(expression, caller), caller
        for caller in ("+12125550123", "2125550123", "+442071838750"):
            assert not matches(expression, caller), caller
        assert [(a.get("application"), a.get("data")) for a in conditions[2]] == [
            ("set", f"domain_name={DOMAIN}"), ("set", "switchboard_app=privacy"),
            ("set", "switchboard_ref=14165550100"), ("socket", "10.0.0.5:8084 async full")]
        route = [(a.get("application"), a.get("data"))
                 for a in root.find(".//extension[@name='dialed-14165550100']").iter("action")]
        assert route == [("set", f"domain_name={DOMAIN}"),
                         ("set", "effective_caller_id_name=Acme sales ${caller_id_name}"),
                         ("transfer", f"1002 XML {DOMAIN}")]

    def test_number_options_are_the_owners_to_set(self, did, acme_beta):
        from django.core.exceptions import PermissionDenied, ValidationError

        from pbx.numbers import do_set_number_options

        with pytest.raises(PermissionDenied):
            do_set_number_options(acme_beta.c2, did, privacy_screening=True)
        with pytest.raises(PermissionDenied):
            do_set_number_options(acme_beta.c1, did, privacy_screening=True,
                                  actor=acme_beta.user("r1_readonly"))
        with pytest.raises(ValidationError) as exc:
            do_set_number_options(acme_beta.c1, did, caller_id_name="bad\nname")
        assert "caller_id_name" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            do_set_number_options(acme_beta.c1, did, moh_group=4242)
        assert "moh_group" in exc.value.message_dict


class TestSchedule:
    """A DID routed to a schedule: holiday, open and closed decide where the call goes."""

    def make(self, acme, **fields):
        from pbx.actions import do_create_schedule

        return do_create_schedule(acme, name="Office hours", timezone="America/Toronto",
                                  open_destination=route_to(acme, "extension", "1002"),
                                  closed_destination=route_to(acme, "voicemail", "1001"), **fields)

    def route(self, acme_beta, did, schedule):
        from pbx.numbers import do_route_number

        do_route_number(acme_beta.c1, did, route=f"schedule:{schedule.pk}")
        hops = [actions(public_document())]
        dialed = hops[0][-1][1].split(" ")[0]
        return hops + walk(dialed)

    def test_open_goes_to_the_open_destination(self, did, acme_beta):
        from pbx.actions import do_add_schedule_event

        acme = acme_beta.c1
        schedule = self.make(acme)
        do_add_schedule_event(acme, schedule, name="Always", repeat="weekly",
                              weekdays=[1, 2, 3, 4, 5, 6, 7], all_day=True, action="open")
        hops = self.route(acme_beta, did, schedule)
        assert hops[0][-1] == ("transfer", f"~schedule:{schedule.pk} XML {DOMAIN}")
        assert hops[1] == [("transfer", f"~{route_to(acme, 'extension', '1002')} XML {DOMAIN}")]
        assert rings(acme, "1002") in hops[2]

    def test_closed_by_default_goes_to_the_closed_destination(self, did, acme_beta):
        hops = self.route(acme_beta, did, self.make(acme_beta.c1))
        assert hops[-1] == [("answer", ""), ("voicemail", f"default {DOMAIN} 1001")]

    def test_a_holiday_forwards_before_the_opening_hours(self, did, acme_beta):
        from django.utils import timezone

        from pbx.actions import do_add_schedule_event

        acme = acme_beta.c1
        schedule = self.make(acme)
        do_add_schedule_event(acme, schedule, name="Always", repeat="weekly",
                              weekdays=[1, 2, 3, 4, 5, 6, 7], all_day=True, action="open")
        today = timezone.localtime(timezone.now(), ZoneInfo("America/Toronto")).date()
        do_add_schedule_event(acme, schedule, name="Holiday", repeat="once", start_date=today,
                              all_day=True, action="forward", position=0,
                              destination=route_to(acme, "voicemail", "1002"))
        hops = self.route(acme_beta, did, schedule)
        assert hops[-1] == [("answer", ""), ("voicemail", f"default {DOMAIN} 1002")]

    def test_the_answer_is_kept_only_until_the_schedule_can_change(self, did, acme_beta):
        from django.utils import timezone

        from pbx.actions import do_add_schedule_event
        from pbx.explain import tenancy_of
        from pbx.routing import plan_destination
        from pbx.schedules import evaluate

        acme = acme_beta.c1
        schedule = self.make(acme)
        do_add_schedule_event(acme, schedule, name="Mornings", repeat="weekly",
                              weekdays=[1, 2, 3, 4, 5], all_day=False,
                              start_time="08:30", end_time="12:30", action="open")
        now = timezone.now()
        plan = plan_destination(tenancy_of(acme), Destination("schedule", str(schedule.pk)), at=now)
        with schema_context(acme.schema_name):
            schedule.refresh_from_db()
            decision = evaluate(schedule, now, default_timezone=acme.timezone)
        assert plan.valid_until == decision.valid_until > now


def test_time_dependent_answers_expire_when_they_may_change():
    """fsconf.cache keeps a document only until note_valid_until (not at all once passed)."""
    from datetime import timedelta

    from django.utils import timezone

    from fsconf.cache import cached, note_valid_until

    renders: list[str] = []

    def render(until):
        def build() -> bytes:
            renders.append("x")
            note_valid_until(until)
            return b"<document/>"
        return build

    for _ in range(2):
        cached(("test", "past"), render(timezone.now() - timedelta(seconds=1)))
    assert len(renders) == 2
    renders.clear()
    for _ in range(2):
        cached(("test", "future"), render(timezone.now() + timedelta(hours=1)))
    assert len(renders) == 1


def test_announcement_only_box_plays_and_takes_no_message(acme_beta):
    from pbx.actions import do_update_voicemail_box
    from pbx.models import VoicemailBox

    acme = acme_beta.c1
    with schema_context(acme.schema_name):
        box = VoicemailBox.objects.get(number="1002")
    do_update_voicemail_box(acme, box, announcement_only=True)
    found = last(walk("1002", "NO_ANSWER"))
    assert found[0] == ("answer", "") and found[-1] == ("hangup", "NORMAL_CLEARING")
    assert all(application != "voicemail" for application, _ in found)
