"""The forwarding, do-not-disturb and directed-pickup codes through the real xml_curl
endpoint (dialed from the captured INVITE of 1001@acme), the explainer hop by hop
against the dialplan, and what each code will change as the explainer tells it."""

from __future__ import annotations

from django_tenants.utils import schema_context
from lxml import etree

from pbx.actions import (
    do_create_extension,
    do_create_ring_group,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.explain import explain_route
from pbx.models import Extension
from pbx.routing import Outcome
from tests.conftest import route_to
from tests.fsconf.replay import replay
from tests.fsconf.test_dialplan import actions, rings
from tests.fsconf.test_explain import explained_hops
from tests.fsconf.test_outbound import dial_body
from tests.fsconf.test_routing import DOMAIN, dial, walk

SOCKET = "10.0.0.5:8084 async full"
CODES = {"*711002": "all:{pk}:1002", "*721002#": "busy:{pk}:1002", "*73": "no_answer:{pk}",
         "*071": "all_off:{pk}", "*072": "busy_off:{pk}", "*073": "no_answer_off:{pk}",
         "*74": "dnd_on:{pk}", "*074#": "dnd_off:{pk}"}


def ext(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


def app_actions(ref: str, domain: str = DOMAIN) -> list[tuple[str, str]]:
    return [("set", f"domain_name={domain}"), ("set", "switchboard_app=forwarding"),
            ("set", f"switchboard_ref={ref}"), ("socket", SOCKET)]


def key(account, number: str) -> str:
    return f"{account.schema_name}_extension_{ext(account, number).pk}"


class TestDialplan:
    def test_each_code_hands_the_calling_extension_to_the_forwarding_app(self, acme_beta, settings):
        settings.CALLCONTROL_SOCKET = SOCKET.split(" ")[0]
        pk = ext(acme_beta.c1, "1001").pk
        for code, ref in CODES.items():
            assert dial(code) == app_actions(ref.format(pk=pk)), code

    def test_a_code_names_the_callers_own_extension_in_its_own_tenant(self, acme_beta, settings):
        """beta's 1001 dialing *711002 changes beta's 1001; the number is read in beta's
        plan when the change is made (tests/callcontrol/test_app_forwarding.py)."""
        settings.CALLCONTROL_SOCKET = SOCKET.split(" ")[0]
        beta = actions(etree.fromstring(replay(dial_body("*711002", domain="beta.example.net")).content))
        assert beta == app_actions(f"all:{ext(acme_beta.c2, '1001').pk}:1002", "beta.example.net")

    def test_not_codes_stay_unallocated(self, acme_beta):
        for dialed in ("*7", "*75", "*7412", "*71abc", "*71" + "1" * 21, "*0711"):
            assert dial(dialed)[-1][0] == "hangup", dialed

    def test_ringing_an_extension_rings_its_pickup_leg_which_star_8_answers(self, acme_beta):
        acme, beta = acme_beta.c1, acme_beta.c2
        assert rings(acme, "1002") in dial("1002")
        assert dial("*81002") == [("pickup", key(acme, "1002"))]
        # beta's *81002 is beta's own 1002: another key, acme's never appears.
        found = replay(dial_body("*81002", domain="beta.example.net"))
        assert actions(etree.fromstring(found.content)) == [("pickup", key(beta, "1002"))]
        assert key(acme, "1002") != key(beta, "1002")
        assert key(acme, "1002").encode() not in found.content
        assert dial("*89999")[-1][0] == "hangup"

    def test_ring_group_pickup_codes_keep_working_beside_directed_pickup(self, acme_beta):
        acme = acme_beta.c1
        group = do_create_ring_group(acme, number="2000", name="Sales", pickup_code="*82000")
        do_set_ring_group_members(acme, group, [(route_to(acme, "extension", "1002"), None, True)])
        group_key = f"{acme.schema_name}_ring_group_{group.pk}"
        assert f"pickup/{group_key}" in dict(dial("2000"))["bridge"]
        assert dial("*82000") == [("pickup", group_key)]
        assert dial("*81002") == [("pickup", key(acme, "1002"))]

    def test_phones_that_cannot_be_rung_beside_the_pickup_leg_take_the_unregistered_forward(self, acme_beta):
        """Not registered: the bridge reports the pickup leg's NO_PICKUP (pbx.routing.DISPOSITIONS)."""
        acme = acme_beta.c1
        do_create_extension(acme, number="1003", name="Mobile")
        do_update_extension(acme, ext(acme, "1002"), forward_unregistered=True,
                            forward_unregistered_to=route_to(acme, "extension", "1003"),
                            forward_no_answer=True, forward_no_answer_to=route_to(acme, "extension", "1001"))
        hops = walk("1002", "NO_PICKUP")
        assert hops[1] == [("transfer", f"~{route_to(acme, 'extension', '1003')} XML {DOMAIN}")]


class TestExplainer:
    def test_explanation_matches_the_dialplan_for_every_code(self, acme_beta, settings):
        settings.CALLCONTROL_SOCKET = SOCKET.split(" ")[0]
        for dialed in [*CODES, "*81002"]:
            decisions = explain_route(acme_beta.c1, "1001", dialed)
            assert explained_hops(decisions, Outcome.NO_ANSWER) == walk(dialed), dialed

    def test_explanation_says_what_each_code_will_change(self, acme_beta):
        acme = acme_beta.c1
        group = do_create_ring_group(acme, number="2000", name="Sales")
        do_update_extension(acme, ext(acme, "1001"), forward_busy=True,
                            forward_busy_to=route_to(acme, "extension", "1002"))

        def change(dialed: str) -> str:
            decisions = explain_route(acme, "1001", dialed)
            assert decisions[-2].rule == "app"
            return decisions[-1].text

        assert change("*711002") == ("Extension 1001 now forwards all calls to Extension 1002 Acme 1002. "
                                     "The caller hears a confirmation.")
        assert change("*732000").startswith(f"Extension 1001 now forwards unanswered calls to "
                                            f"Ring group 2000 {group.name}.")
        assert change("*722125550123").startswith(  # the test accounts are in the US
            "Extension 1001 now forwards calls while busy to External number +12125550123.")
        assert change("*072").startswith("Extension 1001 stops forwarding calls while busy; "
                                         "Extension 1002 Acme 1002 is kept for later.")
        assert change("*74").startswith("Extension 1001 goes on do not disturb")
        assert change("*71").startswith("The caller is asked for the number to forward all calls to")
        assert change("*71911") == ("Refused, nothing changes: Calls cannot be forwarded to the emergency "
                                    "number 911.")

    def test_a_forward_that_would_loop_is_explained_as_refused_and_nothing_is_written(self, acme_beta):
        acme = acme_beta.c1
        do_update_extension(acme, ext(acme, "1002"), forward_all=True,
                            forward_all_to=route_to(acme, "extension", "1001"))
        last = explain_route(acme, "1001", "*711002")[-1]
        assert last.rule == "feature_refused"
        assert "loop: Extension 1001 Acme 1001 → Extension 1002 Acme 1002 → Extension 1001" in last.text
        assert ext(acme, "1001").forward_all is False and ext(acme, "1001").forward_all_to == ""
