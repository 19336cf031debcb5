"""Outbound calls from a tenant's context: which trunks, in what order, with which caller
ID, and what is refused. The caller's channel variables come from our own directory
answer for the calling extension, so directory and dialplan are tested together."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context
from lxml import etree

from carriers.actions import do_create_trunk, do_set_trunk_source, do_update_trunk
from pbx.actions import do_add_device, do_create_extension, do_update_extension
from pbx.models import Extension
from tenants.actions import do_suspend_account, do_update_account
from tests.fsconf.replay import Captured, replay, request
from tests.fsconf.test_dialplan import actions

CARRIER_A = {"server": "a.carrier.example.com"}
CARRIER_B = {"server": "b.carrier.example.com", "prefix": "9"}


def directory_variables(domain: str, user: str) -> dict[str, str]:
    captured = request("directory-sip_auth-register-acme-1001-a1hash-ok")
    body = captured.body.replace(b"acme.example.net", domain.encode()).replace(
        b"1001", user.encode())
    root = etree.fromstring(replay(Captured(captured.name, "POST", "/", captured.headers, body)).content)
    return {v.get("name"): v.get("value") for v in root.iter("variable")}


def dial_body(dialed: str, *, domain: str = "acme.example.net", user: str = "1001",
              **overrides: str) -> Captured:
    """The captured INVITE from 1001, carrying the variables our directory gives ``user``."""
    captured = request("dialplan-acme-1001-to-1002")
    variables = {**directory_variables(domain, user), **overrides}
    pairs = []
    for pair in captured.body.decode().split("&"):
        name, _, value = pair.partition("=")
        short = name.removeprefix("variable_")
        if name.startswith("variable_") and short in variables:
            value = quote(variables.pop(short), safe="")
        elif name in ("Caller-Destination-Number", "Hunt-Destination-Number"):
            value = quote(dialed, safe="")
        pairs.append(f"{name}={value}")
    pairs += [f"variable_{name}={quote(value, safe='')}" for name, value in variables.items()]
    body = "&".join(pairs).replace("acme.example.net", domain)
    return Captured(captured.name, "POST", "/", captured.headers, body.encode())


def dial(dialed: str, **kwargs: str) -> etree._Element:
    response = replay(dial_body(dialed, **kwargs))
    assert response.status_code == 200
    return etree.fromstring(response.content)


def bridge_legs(root: etree._Element) -> list[str]:
    bridge = dict(actions(root))["bridge"]
    return bridge.split("|")


@pytest.fixture
def carriers(acme_beta):
    """Platform trunks: A (cheap, North America only), B (dearer, everything)."""
    master = acme_beta.user("master_admin")
    # Toronto and Vancouver companies, as their numbers say: +1 416 is local, the US abroad.
    do_update_account(acme_beta.user("r1_admin"), acme_beta.c1, outbound_caller_id="+14165550100",
                      country="CA")
    do_update_account(acme_beta.user("r2_admin"), acme_beta.c2, country="CA")
    acme_beta.c1.refresh_from_db()
    a = do_create_trunk(master, acme_beta.master, name="A", weight_cost=10,
                        rules=[r"^\+(1\d{10})$"], gateways=[CARRIER_A])
    b = do_create_trunk(master, acme_beta.master, name="B", weight_cost=20, gateways=[CARRIER_B])
    return acme_beta, a, b


def allow_international(tree, committed) -> None:
    with committed():
        do_update_account(tree.user("master_admin"), tree.r1, allow_international=True)
        do_update_account(tree.user("r1_admin"), tree.c1, allow_international=True)


def gw(trunk) -> str:
    return f"gw{trunk.gateways.get().pk}"


def test_local_call_tries_trunks_by_weight_cost_with_rules_and_prefixes(carriers, committed):
    tree, a, b = carriers
    legs = bridge_legs(dial("4165550123"))
    assert legs[0].endswith(f"sofia/gateway/{gw(a)}/14165550123")  # the rule's group
    assert legs[1].endswith(f"sofia/gateway/{gw(b)}/914165550123")  # no rules: E.164 digits, prefix
    assert "origination_caller_id_number=+14165550100" in legs[0]
    assert "origination_caller_id_name=C1" in legs[0]  # the account's name, as the directory says
    with committed():
        do_update_trunk(tree.user("master_admin"), b, weight_cost=5)
    legs = bridge_legs(dial("4165550123"))
    assert gw(b) in legs[0] and gw(a) in legs[1]


def test_call_goes_through_the_account_limit_and_records_the_number(carriers):
    root = dial("+16135550123")
    assert root.find(".//action[@application='limit']") is not None
    assert ("set", "outbound_number=+16135550123") in actions(root)


def test_international_needs_both_the_account_and_the_extension(carriers, committed):
    tree, _a, b = carriers
    assert actions(dial("011442079460000")) == [("hangup", "OUTGOING_CALL_BARRED")]
    allow_international(tree, committed)
    # The extension's own permission is domestic (the default) until raised.
    assert actions(dial("011442079460000")) == [("hangup", "OUTGOING_CALL_BARRED")]
    with committed(), schema_context(tree.c1.schema_name):
        do_update_extension(tree.c1, Extension.objects.get(number="1001"), call_permission="international")
    legs = bridge_legs(dial("011442079460000"))
    assert legs == [f"[leg_progress_timeout=20,origination_caller_id_number=+14165550100,"
                    f"origination_caller_id_name=C1]sofia/gateway/{gw(b)}/9442079460000"]


def test_internal_only_extension_cannot_call_out(carriers, committed):
    tree = carriers[0]
    with committed():
        lobby = do_create_extension(tree.c1, number="1003", name="Lobby", call_permission="internal")
    with committed():
        do_add_device(tree.c1, lobby, secret="lobby-secret")
    assert actions(dial("4165550123", user="1003")) == [("hangup", "OUTGOING_CALL_BARRED")]
    # ...but reaches emergency services.
    assert "bridge" in dict(actions(dial("911", user="1003")))


def test_call_without_an_authenticated_caller_cannot_go_out(carriers):
    root = dial("4165550123", user_name="")
    assert actions(root) == [("hangup", "UNALLOCATED_NUMBER")]


def test_emergency_uses_emergency_trunks_and_the_emergency_caller_id(carriers, committed):
    tree, a, b = carriers
    with committed():
        do_update_account(tree.user("r1_admin"), tree.c1, emergency_caller_id="+14165550199")
    # No emergency trunk: every trunk is tried (a carrier usually routes 911), rules aside.
    root = dial("911")
    legs = bridge_legs(root)
    assert [leg.rsplit("/", 2)[1:] for leg in legs] == [[gw(a), "911"], [gw(b), "9911"]]
    assert all("origination_caller_id_number=+14165550199" in leg for leg in legs)
    assert ("set", "emergency_call=true") in actions(root)
    with committed():
        e911 = do_create_trunk(tree.user("master_admin"), tree.master, name="E911", emergency=True,
                               weight_cost=90, rules=[r"^$"], gateways=[{"server": "e911.example.com"}])
    assert [leg.rsplit("/", 2)[1] for leg in bridge_legs(dial("911"))] == [gw(e911)]


def test_an_extension_cannot_take_an_emergency_number(carriers):
    tree = carriers[0]
    with pytest.raises(ValidationError) as raised:
        do_create_extension(tree.c1, number="911", name="Trap")
    assert "emergency" in str(raised.value)


def test_caller_id_formatters(carriers, committed):
    tree, a, b = carriers
    master = tree.user("master_admin")
    with committed():
        do_update_trunk(master, a, caller_id_regex=r"^\+1(\d{10})$", caller_id_prefix="0")
    with committed():
        do_update_trunk(master, b, caller_id_value="14165554444")
    legs = bridge_legs(dial("4165550123"))
    assert "origination_caller_id_number=04165550100" in legs[0]
    assert "origination_caller_id_number=14165554444" in legs[1]
    # A fixed caller ID never hides an emergency caller's callback number.
    legs = bridge_legs(dial("911"))
    assert "origination_caller_id_number=14165554444" not in legs[1]


def test_no_matching_trunk_is_no_route(carriers, committed):
    tree, _a, b = carriers
    with committed():
        do_update_trunk(tree.user("master_admin"), b, enabled=False)
    assert actions(dial("+442079460000", toll_allow="international")) == [
        ("hangup", "OUTGOING_CALL_BARRED")]
    allow_international(tree, committed)
    assert actions(dial("+442079460000", toll_allow="international")) == [
        ("hangup", "NO_ROUTE_DESTINATION")]


def test_local_trunks_replace_the_parents(carriers, committed):
    tree, a, _b = carriers
    r1_admin = tree.user("r1_admin")
    with committed():
        do_set_trunk_source(r1_admin, tree.c1, "local")
    assert actions(dial("4165550123")) == [("hangup", "NO_ROUTE_DESTINATION")]
    with committed():
        own = do_create_trunk(r1_admin, tree.c1, name="Own", gateways=[{"server": "own.example.com"}])
    assert [leg.rsplit("/", 2)[1] for leg in bridge_legs(dial("4165550123"))] == [gw(own)]
    # beta (under r2) still uses the platform trunks, never acme's.
    legs = bridge_legs(dial("4165550123", domain="beta.example.net"))
    assert gw(own) not in "".join(legs) and gw(a) in legs[0]


def test_caller_id_name_cannot_break_the_bridge_string(carriers):
    legs = bridge_legs(dial("4165550123", outbound_caller_id_name="Evil],x=[y|z{^^"))
    assert len(legs) == 2
    assert "origination_caller_id_name=Evilx=yz]" in legs[0]


def test_suspended_account_cannot_call_out(carriers, committed):
    tree = carriers[0]
    with committed():
        do_suspend_account(tree.user("r1_admin"), tree.c1)
    assert actions(dial("4165550123")) == [("hangup", "CALL_REJECTED")]
