"""On-net routing (issue 16): a phone dialing a number another account of the platform
holds reaches it without a carrier -- the dialplan hands the call to the public context's
DID plan as that number's inbound call, presenting the caller's outbound caller ID as
E.164, with the caller's own identity dropped; once per call (a second time, the
carrier). The public context then applies the called tenant's blocked callers."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from lxml import etree

from pbx.actions import do_add_call_block, do_update_extension
from pbx.explain import explain_route
from pbx.models import Extension
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tenants.actions import do_suspend_account, do_update_account
from tests.conftest import route_to
from tests.fsconf.replay import Captured, replay, request
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_outbound import carriers, dial, dial_body, gw  # noqa: F401  (carriers: a fixture)

BETA_DID = "+16045550199"


@pytest.fixture
def beta_did(carriers):  # noqa: F811
    """Beta's number, routed to its extension 1001; acme (C1) presents +14165550100."""
    tree, a, b = carriers
    master = tree.user("master_admin")
    (number,) = do_import_numbers(master, [BETA_DID])
    do_assign_number(master, number, tree.r2)
    number.refresh_from_db()
    do_assign_number(tree.user("r2_admin"), number, tree.c2)
    number.refresh_from_db()
    do_route_number(tree.c2, number, route=route_to(tree.c2, "extension", "1001"))
    return tree, a, b


def acme_1001(tree) -> Extension:
    with schema_context(tree.c1.schema_name):
        return Extension.objects.get(number="1001")


def guard(root: etree._Element) -> etree._Element:
    (condition,) = root.xpath(".//condition[@field='${switchboard_onnet}']")
    return condition


def anti_actions(condition: etree._Element) -> list[tuple[str, str]]:
    return [(a.get("application"), a.get("data") or "") for a in condition.iter("anti-action")]


def test_a_call_to_another_tenants_number_goes_on_net_not_to_a_carrier(beta_did):
    _tree, a, b = beta_did
    root = dial("6045550199")
    done = actions(root)
    assert not [data for application, data in done if application == "bridge"]
    assert done[-1] == ("transfer", f"{BETA_DID} XML public")
    assert ("set", "switchboard_onnet=true") in done
    assert ("set_profile_var", "caller_id_number=+14165550100") in done
    assert ("set_profile_var", "caller_id_name=C1") in done
    for variable in ("user_name", "toll_allow", "switchboard_limited", "effective_caller_id_number"):
        assert ("unset", variable) in done
    # The account's call limit still applies to the caller, before anything else.
    assert root.find(".//action[@application='limit']") is not None
    # The loop guard: a call already sent on-net once goes out through the carrier.
    condition = guard(root)
    assert condition.get("expression") == "^$"
    (bridge,) = [data for application, data in anti_actions(condition) if application == "bridge"]
    assert gw(a) in bridge and gw(b) in bridge


def test_the_extension_caller_id_is_presented_and_a_short_one_is_withheld(beta_did, committed):
    tree, _a, _b = beta_did
    extension = acme_1001(tree)
    master = tree.user("master_admin")
    with committed():
        (number,) = do_import_numbers(master, ["+14165550111"])
        do_assign_number(master, number, tree.r1)
        number.refresh_from_db()
        do_assign_number(tree.user("r1_admin"), number, tree.c1)
        do_update_extension(tree.c1, extension, outbound_caller_id_number="+14165550111",
                            outbound_caller_id_name="Sales")
    done = actions(dial("+16045550199"))
    assert ("set_profile_var", "caller_id_number=+14165550111") in done
    assert ("set_profile_var", "caller_id_name=Sales") in done
    # Not a number (a directory variable holding "1001"): the account's number instead.
    done = actions(dial("6045550199", outbound_caller_id_number="1001"))
    assert ("set_profile_var", "caller_id_number=+14165550100") in done
    # Nothing usable at all: withheld, never the short extension number.
    with committed():
        do_update_account(tree.user("r1_admin"), tree.c1, outbound_caller_id="")
    done = actions(dial("6045550199", outbound_caller_id_number="1001"))
    assert ("set_profile_var", "caller_id_number=anonymous") in done


def test_the_callers_permission_is_checked_first(beta_did, committed):
    tree, _a, _b = beta_did
    with committed():
        do_update_extension(tree.c1, acme_1001(tree), call_permission="internal")
    done = actions(dial("6045550199"))
    assert ("transfer", f"{BETA_DID} XML public") not in done
    assert done[-1][0] == "hangup"


def test_a_number_of_a_suspended_account_or_the_pool_goes_to_the_carrier(beta_did, committed):
    tree, _a, _b = beta_did
    with committed():
        do_suspend_account(tree.user("r2_admin"), tree.c2)
    done = actions(dial("6045550199"))
    assert [data for application, data in done if application == "bridge"]
    assert not any(application == "set_profile_var" for application, _ in done)
    pooled = actions(dial("6045550100"))  # nobody's number
    assert [data for application, data in pooled if application == "bridge"]


def public_lookup(dialed: str, caller: str) -> etree._Element:
    """The public context's lookup of the on-net transfer, as FreeSWITCH sends it for the
    transferred channel (the capture of a carrier's call, with this DID and caller)."""
    captured = request("dialplan-public-did-14165550100-external-profile")
    body = captured.body.replace(b"Destination-Number=14165550100", f"Destination-Number={dialed}".encode())
    body = re.sub(rb"Caller-Caller-ID-Number=[^&]*", f"Caller-Caller-ID-Number={caller}".encode(), body)
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    assert result.status_code == 200
    return etree.fromstring(result.content)


def test_the_public_context_treats_it_as_an_inbound_call_from_the_callers_number(beta_did, committed):
    tree, _a, _b = beta_did
    root = public_lookup("%2B16045550199", "%2B14165550100")
    assert actions(root)[-1] == ("transfer", "1001 XML beta.example.net")
    with committed():
        do_add_call_block(tree.c2, pattern="+14165550100", comment="acme")
    root = public_lookup("%2B16045550199", "%2B14165550100")
    (blocked,) = root.xpath(".//extension[@name='blocked-callers']/condition")
    assert blocked.get("field") == "caller_id_number"
    # FreeSWITCH matches the caller's number (set_profile_var above) against it: refused.
    assert re.search(blocked.get("expression"), "+14165550100")
    assert not re.search(blocked.get("expression"), "+14165550111")
    assert [a.get("data") for a in blocked.iter("action")] == ["CALL_REJECTED"]


def test_the_explainer_describes_it(beta_did):
    tree, _a, _b = beta_did
    decisions = explain_route(tree.c1, "1001", "6045550199")
    rules = [d.rule for d in decisions]
    assert "on_net" in rules
    text = "\n".join(str(d) for d in decisions)
    assert "is a number on this platform" in text and "no carrier" in text
    assert "Beta" not in text and "C2" not in text  # another tenant's name is not shown


def test_an_on_net_lookup_stays_within_the_query_budget(beta_did):
    body = dial_body("6045550199")  # the caller's directory variables, asked first
    with CaptureQueriesContext(connection) as captured:
        result = replay(body)
    assert actions(etree.fromstring(result.content))[-1] == ("transfer", f"{BETA_DID} XML public")
    queries = [q["sql"] for q in captured if not q["sql"].startswith("SET search_path")]
    assert len(queries) <= 3, "\n\n".join(queries)
