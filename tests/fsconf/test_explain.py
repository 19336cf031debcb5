"""The route explainer against what the dialplan actually answers, hop by hop, for the
same inputs: the two cannot drift apart."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context
from lxml import etree

from fsconf.destinations import actions_for
from pbx.actions import (
    do_create_extension,
    do_create_ivr,
    do_create_ring_group,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.explain import Decision, explain_route
from pbx.models import Extension
from pbx.routing import GoTo, Outcome, Queue, Ring
from tests.conftest import route_to
from tests.fsconf.conftest import acme_main_number
from tests.fsconf.replay import replay, request
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_routing import DOMAIN, walk

DISPOSITION = {Outcome.BUSY: "USER_BUSY", Outcome.NO_ANSWER: "NO_ANSWER",
               Outcome.UNREGISTERED: "USER_NOT_REGISTERED"}


def explained_hops(decisions: list[Decision], outcome: Outcome) -> list[list[tuple[str, str]]]:
    """The dialplan answers the explanation predicts when ringing ends with ``outcome``."""
    hops: list[list[tuple[str, str]]] = []
    depth, i, skip_goto = 0, 0, False
    while i < len(decisions):
        decision = decisions[i]
        if decision.depth < depth:
            break  # the next branch: another outcome
        if decision.depth == depth and decision.final is not None:
            if not (skip_goto and isinstance(decision.final, GoTo)):
                hops.append(actions_for(decision.final, DOMAIN))
            skip_goto = False
            if isinstance(decision.final, Ring | Queue):
                after = getattr(decision.final, "after", None)
                rule = f"if_{outcome.value}" if after else "if_no_answer"
                i = next(k for k in range(i + 1, len(decisions))
                         if decisions[k].depth == depth + 1 and decisions[k].rule == rule)
                # A group's (or queue's) fallback transfer is part of its own answer.
                skip_goto = after is None
                depth += 2
        i += 1
    return hops


@pytest.fixture
def office(acme_beta):
    """1002 forwards on busy to the Sales group (in order, then 1001's box); 1001 is on
    DND; a DID routes to 1002."""
    acme = acme_beta.c1
    for number in ("1003", "1004"):
        do_create_extension(acme, number=number, name=f"Agent {number}")
    group = do_create_ring_group(acme, number="2000", name="Sales", strategy="in_order",
                                 fallback=route_to(acme, "voicemail", "1001"))
    do_set_ring_group_members(acme, group, [(route_to(acme, "extension", n), 12, True)
                                            for n in ("1003", "1004")])
    with schema_context(acme.schema_name):
        ext_1002 = Extension.objects.get(number="1002")
        ext_1001 = Extension.objects.get(number="1001")
    do_update_extension(acme, ext_1002, forward_busy=True,
                        forward_busy_to=route_to(acme, "ring_group", "2000"))
    do_update_extension(acme, ext_1001, do_not_disturb=True)
    acme_main_number(acme_beta, "1002")
    return acme_beta


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("dialed", ["1002", "2000", "1001"])
def test_explanation_matches_the_dialplan_for_internal_calls(office, dialed, outcome):
    decisions = explain_route(office.c1, "1001", dialed)
    assert decisions[0].rule == "caller"
    assert explained_hops(decisions, outcome) == walk(dialed, DISPOSITION[outcome])


def test_explanation_of_a_did_call_matches_the_dialplan(office):
    decisions = explain_route(office.c1, "+12125550123", "+14165550100")
    assert [d.rule for d in decisions[:2]] == ["inbound", "not_blocked"]
    captured = request("dialplan-public-did-14165550100-external-profile")
    public = actions(etree.fromstring(replay(captured).content))
    hops = explained_hops(decisions, Outcome.BUSY)
    assert public[-1] == hops[0][-1] == ("transfer", f"1002 XML {DOMAIN}")
    assert hops[1:] == walk("1002", "USER_BUSY")


def test_explanation_reads_as_the_rules_apply(office):
    text = [str(d) for d in explain_route(office.c1, "1001", "1002")]
    assert text[0] == "Extension 1001 Acme 1001 dials 1002."
    assert text[1] == "Rings extension 1002's phones for 25 s."
    busy = text.index("  If busy:")
    assert text[busy + 1] == "    Busy: forwarded (busy forward)."
    assert text[busy + 2] == "    Goes to Ring group 2000 Sales."
    assert "Ring group 2000 Sales rings one after another (1003 12 s, 1004 12 s)." in text[busy + 3]
    assert "Voicemail box 1002 takes a message." in "\n".join(text)


def test_dnd_and_missing_objects_are_explained(office):
    text = "\n".join(str(d) for d in explain_route(office.c1, "1002", "1001"))
    assert "Extension 1001 is on do not disturb." in text
    assert "Do not disturb: voicemail box 1001." in text


def test_ivr_destination_is_named(office):
    do_create_ivr(office.c1, name="Main menu", number="9000")
    decisions = explain_route(office.c1, "1001", "9000")
    [app] = [d for d in decisions if d.rule == "app"]
    assert "Auto attendant (IVR) 9000 Main menu answers" in app.text
    assert [d.rule for d in decisions[decisions.index(app) + 1:]] == ["ivr_dial_by_extension", "ivr_exit"]


def test_management_command(office):
    out = StringIO()
    call_command("explain_route", DOMAIN, "1001", "1002", "--at", "2026-12-02T10:00:00+00:00", stdout=out)
    assert "Rings extension 1002's phones for 25 s." in out.getvalue()


def test_another_tenants_number_is_not_explained_as_ours(office):
    """beta asking about acme's DID gets an internal dial (not acme's route)."""
    decisions = explain_route(office.c2, "1001", "+14165550100")
    assert decisions[0].rule == "caller"
    assert "1002" not in "\n".join(d.text for d in decisions)
