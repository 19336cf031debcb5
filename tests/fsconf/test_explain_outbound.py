"""Why an outside call cannot be placed, as the route explainer names it: no trunk at all
(and whose trunks the account uses), no trunk whose rules match, no enabled gateway,
barred by the extension's permission or by the account's international switch. The
dialplan's answer for the same call is checked beside each, so the two agree."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from carriers.actions import do_create_trunk, do_save_gateway, do_set_trunk_source
from carriers.routing import Refusal
from pbx.actions import do_update_extension
from pbx.explain import Decision, explain_route
from pbx.models import Extension
from pbx.routing import Hangup
from tenants.actions import do_update_account
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_outbound import allow_international, dial

DOMESTIC = "2125550123"  # the test accounts are in the US
ABROAD = "+442079460000"


@pytest.fixture
def acme(acme_beta, committed):
    with committed():
        do_update_account(acme_beta.user("r1_admin"), acme_beta.c1, outbound_caller_id="+14165550100")
    acme_beta.c1.refresh_from_db()
    return acme_beta


def explained(tree, dialed: str, caller: str = "1001") -> list[Decision]:
    return explain_route(tree.c1, caller, dialed)


def refusal(decisions: list[Decision]) -> Decision:
    (found,) = [d for d in decisions if d.rule in set(Refusal)]
    return found


def ends_with(decisions: list[Decision], cause: str) -> bool:
    return decisions[-1].final == Hangup(cause)


def any_trunk(tree) -> None:
    do_create_trunk(tree.user("master_admin"), tree.master, name="Any",
                    gateways=[{"server": "a.example.com"}])


def set_permission(tree, committed, permission: str) -> None:
    with committed(), schema_context(tree.c1.schema_name):
        do_update_extension(tree.c1, Extension.objects.get(number="1001"), call_permission=permission)


@pytest.mark.parametrize("dialed", [DOMESTIC, "911"])
def test_no_trunk_at_all_names_whose_trunks_the_account_uses(acme, dialed):
    decisions = explained(acme, dialed)
    why = refusal(decisions)
    assert why.rule == "no_trunk"
    assert why.text == (f"{dialed} cannot be called out (NO_ROUTE_DESTINATION): "
                        "there is no enabled trunk to call out on.")
    owner = decisions[decisions.index(why) + 1]
    assert owner.rule == "trunk_source"
    assert owner.text == (f"{acme.c1.name} calls out on the platform's trunks (those of Provider), "
                          "and none is enabled.")
    assert ends_with(decisions, "NO_ROUTE_DESTINATION")
    assert actions(dial(dialed)) == [("hangup", "NO_ROUTE_DESTINATION")]


def test_no_trunk_names_the_reseller_or_the_account_itself_when_their_source_is_local(acme, committed):
    master, r1_admin = acme.user("master_admin"), acme.user("r1_admin")
    do_create_trunk(master, acme.master, name="Platform", gateways=[{"server": "p.example.com"}])
    with committed():
        do_set_trunk_source(master, acme.r1, "local")
    text = [d.text for d in explained(acme, DOMESTIC) if d.rule == "trunk_source"]
    assert text == [f"{acme.c1.name} calls out on the trunks of R1 (the nearest account above it with trunk "
                    "source Local), and none is enabled."]
    with committed():
        do_set_trunk_source(r1_admin, acme.c1, "local")
    text = [d.text for d in explained(acme, DOMESTIC) if d.rule == "trunk_source"]
    assert text == [f"{acme.c1.name} calls out on its own trunks (trunk source Local), and none is enabled."]


def test_no_trunk_whose_rules_match(acme, committed):
    do_create_trunk(acme.user("master_admin"), acme.master, name="North America",
                    rules=[r"^\+(1\d{10})$"], gateways=[{"server": "na.example.com"}])
    allow_international(acme, committed)
    set_permission(acme, committed, "international")
    decisions = explained(acme, ABROAD)
    why = refusal(decisions)
    assert why.rule == "no_matching_trunk"
    assert why.text == (f"{ABROAD} cannot be called out (NO_ROUTE_DESTINATION): no trunk's rules match "
                        rf"{ABROAD} (North America: ^\+(1\d{{10}})$).")
    assert ends_with(decisions, "NO_ROUTE_DESTINATION")
    assert actions(dial(ABROAD)) == [("hangup", "NO_ROUTE_DESTINATION")]
    assert "bridge" in dict(actions(dial(DOMESTIC)))  # the rule does match at home


def test_trunks_without_an_enabled_gateway(acme, committed):
    trunk = do_create_trunk(acme.user("master_admin"), acme.master, name="Flaky",
                            gateways=[{"server": "flaky.example.com"}])
    with committed():
        do_save_gateway(acme.user("master_admin"), trunk, trunk.gateways.get(), enabled=False)
    why = refusal(explained(acme, DOMESTIC))
    assert why.rule == "no_gateway"
    assert why.text.endswith("the trunks that would carry it (Flaky) have no enabled gateway.")
    assert actions(dial(DOMESTIC)) == [("hangup", "NO_ROUTE_DESTINATION")]


def test_barred_by_the_extensions_permission(acme, committed):
    any_trunk(acme)
    allow_international(acme, committed)  # the account may; extension 1001 is domestic
    decisions = explained(acme, ABROAD)
    why = refusal(decisions)
    assert why.rule == "barred_by_permission"
    assert why.text == (f"{ABROAD} cannot be called out (OUTGOING_CALL_BARRED): an international call; "
                        "the caller's call permission allows local and domestic calls only.")
    assert ends_with(decisions, "OUTGOING_CALL_BARRED")
    assert actions(dial(ABROAD)) == [("hangup", "OUTGOING_CALL_BARRED")]
    set_permission(acme, committed, "internal")
    why = refusal(explained(acme, DOMESTIC))
    assert why.text.endswith("a domestic call; the caller's call permission allows internal calls only.")
    assert actions(dial(DOMESTIC)) == [("hangup", "OUTGOING_CALL_BARRED")]


def test_barred_by_the_accounts_international_switch(acme, committed):
    any_trunk(acme)
    set_permission(acme, committed, "international")  # the extension may; the account may not
    decisions = explained(acme, ABROAD)
    why = refusal(decisions)
    assert why.rule == "barred_by_account"
    assert why.text.startswith(f"{ABROAD} cannot be called out (OUTGOING_CALL_BARRED): "
                               f"{acme.c1.name} may not call abroad (its international calling is off")
    assert actions(dial(ABROAD)) == [("hangup", "OUTGOING_CALL_BARRED")]


def test_emergency_calls_are_never_barred(acme, committed):
    any_trunk(acme)
    set_permission(acme, committed, "internal")
    decisions = explained(acme, "911")
    assert not [d for d in decisions if d.rule in set(Refusal)]
    assert decisions[-1].rule == "outbound" and decisions[-1].final.emergency


def test_explain_route_command_prints_the_reason(acme):
    out = StringIO()
    call_command("explain_route", "acme.example.net", "1001", DOMESTIC, stdout=out)
    text = out.getvalue()
    assert "there is no enabled trunk to call out on" in text
    assert f"{acme.c1.name} calls out on the platform's trunks" in text
    assert "The call ends (NO_ROUTE_DESTINATION)." in text
