"""Call blocks in the dialplan, through the xml_curl endpoint: the account's blocks refuse
calls from outside in the public context (as before); an extension's own blocks refuse
calls from outside offered to that extension (its own lookup in the tenant's context)
and calls out from it. Each document is hunted as FreeSWITCH hunts an XML dialplan
(``hunt``): conditions in order, ``continue``, the caller's number and variables."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import override_settings
from lxml import etree

from pbx.actions import (
    do_add_call_block,
    do_create_ring_group,
    do_remove_call_block,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.explain import explain_route
from pbx.routing import TRANSFER_PROOF_VARIABLE
from tests.conftest import route_to
from tests.fsconf.conftest import acme_main_number
from tests.fsconf.replay import Captured, replay, request
from tests.fsconf.test_outbound import carriers as carriers  # a fixture
from tests.fsconf.test_outbound import dial_body
from tests.fsconf.test_routing import ext
from tests.fsconf.transfers import proof_set_by

DOMAIN = "acme.example.net"
PEST = "+12125551234"  # the outside caller of the captures


def hunt(root: etree._Element, variables: dict[str, str]) -> list[tuple[str, str]]:
    """The actions FreeSWITCH's XML dialplan runs for a call with ``variables``: each
    extension whose conditions all match adds its actions (a failing condition with
    anti-actions adds those and ends the extension as matched, one with
    ``break="never"`` only its anti-actions); hunting stops at the
    first matching extension without ``continue="true"``. The document answers the
    number FreeSWITCH asked about, so its ``destination_number`` conditions match."""
    done: list[tuple[str, str]] = []
    for extension in root.iter("extension"):
        matched, found = True, []
        for condition in extension.findall("condition"):
            field = condition.get("field")
            if field is None:
                found += condition.findall("action")
                continue
            name = field[2:-1] if field.startswith("${") else field
            value = variables.get(name, "")
            if name == "destination_number" or re.search(condition.get("expression"), value):
                found += condition.findall("action")
            elif condition.get("break") == "never":
                found += condition.findall("anti-action")
            else:
                anti = condition.findall("anti-action")
                matched = bool(anti)
                found += anti
                break
        if matched:
            done += [(a.get("application"), a.get("data") or "") for a in found]
            if extension.get("continue") != "true":
                return done
    return done


def run(root: etree._Element, variables: dict[str, str]) -> list[tuple[str, str]]:
    """What the call does: the hunted actions but the call record's marks."""
    return [(application, data) for application, data in hunt(root, variables) if application != "export"]


def fetch(captured: Captured) -> etree._Element:
    result = replay(captured)
    assert result.status_code == 200, result.content
    return etree.fromstring(result.content)


def transferred_in(number: str, caller: str, proof: str = "") -> Captured:
    """The tenant-context lookup of a carrier's call transferred to ``number`` (the
    capture of the DID call to 1001 after its transfer), from ``caller``."""
    captured = request("dialplan-acme-1001-after-did-transfer")
    body = captured.body.decode().replace("Destination-Number=1001", f"Destination-Number={quote(number)}")
    body = body.replace(quote("+12125551234", safe=""), quote(caller, safe=""))
    if proof:
        body += f"&variable_{TRANSFER_PROOF_VARIABLE}={quote(proof, safe='')}"
    return Captured(captured.name, captured.method, captured.path, captured.headers, body.encode())


def from_outside(number: str, caller: str, proof: str = "") -> etree._Element:
    return fetch(transferred_in(number, caller, proof))


def to_the_number(caller: str) -> Captured:
    """The carrier's call to +1 416 555 0100 (the capture) from ``caller``."""
    captured = request("dialplan-public-did-14165550100-external-profile")
    body = captured.body.decode().replace(quote("+12125551234", safe=""), quote(caller, safe=""))
    return Captured(captured.name, captured.method, captured.path, captured.headers, body.encode())


def did_call(caller: str) -> etree._Element:
    return fetch(to_the_number(caller))


def outside(caller: str) -> dict[str, str]:
    return {"caller_id_number": caller}


def inside(user: str) -> dict[str, str]:
    return {"caller_id_number": user, "user_name": user}


REFUSED = [("hangup", "CALL_REJECTED")]


def rings(actions: list[tuple[str, str]]) -> bool:
    return any(application == "bridge" for application, _ in actions)


def transfers_to(actions: list[tuple[str, str]]) -> str:
    (target,) = [data.split(" ")[0] for application, data in actions if application == "transfer"]
    return target


@pytest.fixture
def did(acme_beta):
    return acme_main_number(acme_beta, "1001")


@pytest.fixture
def alices_block(acme_beta):
    """1001's own block of the pest (and of anonymous callers); 1002 blocks nobody."""
    acme = acme_beta.c1
    do_add_call_block(acme, pattern=PEST, extension=ext(acme, "1001"), comment="Ex")
    do_add_call_block(acme, anonymous=True, extension=ext(acme, "1001"))
    return acme


@pytest.mark.parametrize("from_index", [True, False], ids=["index", "schema"])
def test_a_caller_blocked_by_the_extension_is_refused_at_it_and_rings_another(acme_beta, did, alices_block,
                                                                               from_index):
    with override_settings(FSCONF_DIRECTORY_INDEX=from_index):
        # The account blocks nobody: the number hands the call to 1001 ...
        public = run(did_call(PEST), outside(PEST))
        assert transfers_to(public) == "1001"
        # ... where 1001's own block refuses it, as the account's blocks refuse.
        root = from_outside("1001", PEST)
        assert run(root, outside(PEST)) == REFUSED
        for caller in ("12125551234", "2125551234", "anonymous", ""):
            assert run(from_outside("1001", caller), outside(caller)) == REFUSED, caller
        # Another caller rings 1001; the pest rings 1002, which blocks nobody.
        assert rings(run(from_outside("1001", "+12125550000"), outside("+12125550000")))
        assert rings(run(from_outside("1002", PEST), outside(PEST)))
        assert from_outside("1002", PEST).find(".//extension[@name='blocked-callers']") is None
        # A colleague's phone is not an outside caller: the block does not apply.
        assert rings(run(root, inside("1002")))


def test_the_index_and_the_schema_give_the_same_documents(did, alices_block, carriers):
    """The dialplan reads the blocks from the index's facts, or from the schema when the
    index has none: the same answers (past the document cache)."""
    from fsconf.request import parse_fetch_body
    from fsconf.sections import dialplan

    acme = alices_block
    do_add_call_block(acme, pattern="+1604555*", extension=ext(acme, "1001"), direction="outgoing")
    do_add_call_block(acme, pattern="+1800*")
    asked = [transferred_in("1001", PEST), transferred_in("1002", PEST), to_the_number(PEST),
             dial_body("16045550199"), dial_body("16045550199", user="1002", user_name="1002")]

    def documents() -> list[bytes]:
        return [dialplan.answer(parse_fetch_body(captured.body)) for captured in asked]

    with override_settings(FSCONF_DIRECTORY_INDEX=True):
        indexed = documents()
    assert b"blocked-callers" in indexed[0] and b"CALL_REJECTED" in indexed[3]
    assert b"blocked-callers" not in indexed[1] and b"CALL_REJECTED" not in indexed[4]
    with override_settings(FSCONF_DIRECTORY_INDEX=False):
        assert documents() == indexed


def test_the_blocked_call_is_refused_before_the_call_limit_and_anything_else(acme_beta, did, alices_block):
    """The refusal comes right after the call record's marks: it takes no place under
    the account's call limit; forward-all and do not disturb come after it."""
    acme = acme_beta.c1
    do_update_extension(acme, ext(acme, "1001"), do_not_disturb=True)
    root = from_outside("1001", PEST)
    names = [extension.get("name") for extension in root.iter("extension")]
    assert names[:3] == ["switchboard-call-record", "blocked-callers", "account-call-limit"]
    assert run(root, outside(PEST)) == REFUSED


def test_a_forward_to_the_extension_meets_its_block(acme_beta, did):
    """1002 forwards everything to 1001: the caller 1001 blocks is refused at 1001's
    lookup, after the forward's transfer, not at 1002's."""
    acme = acme_beta.c1
    do_add_call_block(acme, pattern=PEST, extension=ext(acme, "1001"))
    do_update_extension(acme, ext(acme, "1002"), forward_all=True,
                        forward_all_to=route_to(acme, "extension", "1001"))
    first = from_outside("1002", PEST)
    target = transfers_to(run(first, outside(PEST)))
    assert run(from_outside(target, PEST, proof_set_by(first)), outside(PEST)) == REFUSED


def test_a_ring_group_rings_the_member_that_blocks_the_caller(acme_beta, did):
    """A ring group's call is the group's: a member's own block does not take it away
    from the member's colleagues, nor the member from the group."""
    acme = acme_beta.c1
    do_add_call_block(acme, pattern=PEST, extension=ext(acme, "1001"))
    group = do_create_ring_group(acme, number="2000", name="Sales")
    do_set_ring_group_members(acme, group, [(route_to(acme, "extension", n), None, True)
                                            for n in ("1001", "1002")])
    root = from_outside("2000", PEST)
    assert root.find(".//extension[@name='blocked-callers']") is None
    assert "1001" in dict(run(root, outside(PEST)))["bridge"]


def test_the_accounts_blocks_are_unchanged(acme_beta, did, committed):
    """An account-wide block refuses in the public context, whatever extension the number
    routes to, and puts nothing in the extensions' own lookups."""
    acme = acme_beta.c1
    block = do_add_call_block(acme, pattern=PEST)
    assert run(did_call(PEST), outside(PEST)) == REFUSED
    assert transfers_to(run(did_call("+12125550000"), outside("+12125550000"))) == "1001"
    assert from_outside("1001", PEST).find(".//extension[@name='blocked-callers']") is None
    with committed():
        do_remove_call_block(acme, block)
        do_add_call_block(acme, pattern=PEST, extension=ext(acme, "1002"))
    public = did_call(PEST)
    assert public.find(".//extension[@name='blocked-callers']") is None
    assert transfers_to(run(public, outside(PEST))) == "1001"


def test_an_extensions_outgoing_block_stops_its_calls_out_only(carriers):
    tree, _a, _b = carriers
    acme = tree.c1
    do_add_call_block(acme, pattern="+1604555*", extension=ext(acme, "1001"), direction="both")
    assert run(fetch(dial_body("16045550199")), inside("1001")) == [
        ("limit", f"hash {acme.schema_name} calls {acme.max_concurrent_calls} !NORMAL_TEMPORARY_FAILURE"),
        ("set", "switchboard_limited=true"), *REFUSED]
    from_1002 = run(fetch(dial_body("16045550199", user="1002", user_name="1002")), inside("1002"))
    assert rings(from_1002)
    assert rings(run(fetch(dial_body("14165550123")), inside("1001")))


def test_an_extensions_outgoing_block_applies_to_its_forward_out(carriers):
    tree, _a, _b = carriers
    acme = tree.c1
    do_update_extension(acme, ext(acme, "1001"), forward_all=True, forward_all_to="external:+14165550123")
    do_add_call_block(acme, pattern="+14165550123", extension=ext(acme, "1001"), direction="outgoing")
    assert run(from_outside("1001", PEST), outside(PEST))[-1] == ("hangup", "CALL_REJECTED")
    do_update_extension(acme, ext(acme, "1002"), forward_all=True, forward_all_to="external:+14165550123")
    assert rings(run(from_outside("1002", PEST), outside(PEST)))


def test_the_explainer_says_so(acme_beta, did, alices_block):
    acme = acme_beta.c1
    decisions = explain_route(acme, PEST, "+14165550100")
    assert [d.rule for d in decisions][:2] == ["inbound", "not_blocked"]
    assert decisions[-1].rule == "blocked" and "(Ex)" in decisions[-1].text
    assert decisions[-1].final.cause == "CALL_REJECTED"
    assert explain_route(acme, "+12125550000", "+14165550100")[-1].rule != "blocked"
    # From a colleague's phone the block does not apply.
    assert all(d.rule != "blocked" for d in explain_route(acme, "1002", "1001"))


def test_a_colleague_whose_number_a_block_would_match_is_not_blocked(acme_beta, did):
    """+1100* read in national form matches 1002, the colleague's own number: only the
    ``${user_name}`` condition (a phone of the tenant) keeps their calls ringing."""
    acme = acme_beta.c1
    do_add_call_block(acme, pattern="+1100*", extension=ext(acme, "1001"))
    root = from_outside("1001", "1002")
    assert run(root, outside("1002")) == REFUSED  # as from outside, it would be refused
    assert rings(run(root, inside("1002")))


def test_a_block_change_and_the_extensions_delete_refresh_the_indexed_blocks(acme_beta, did, committed):
    from fsconf.models import TenantFacts
    from pbx.actions import do_delete_extension

    acme = acme_beta.c1

    def indexed() -> list[tuple]:
        (facts,) = TenantFacts.objects.filter(account_id=acme.pk).values_list("call_blocks", flat=True)
        return [(row["pattern"], row["extension_id"]) for row in facts]

    bob = ext(acme, "1002")
    with committed():
        do_add_call_block(acme, pattern=PEST, extension=bob)
        do_add_call_block(acme, pattern="+1900*")
    assert indexed() == [("+12125551234", bob.pk), ("+1900*", None)]
    assert run(from_outside("1002", PEST), outside(PEST)) == REFUSED
    with committed():
        do_delete_extension(acme, bob)
    assert indexed() == [("+1900*", None)]


def test_the_explainer_says_an_extensions_outgoing_block_stops_its_call(carriers):
    tree, _a, _b = carriers
    acme = tree.c1
    do_add_call_block(acme, pattern="+1604555*", extension=ext(acme, "1001"), direction="outgoing",
                      comment="Not from this desk")
    stopped = explain_route(acme, "1001", "16045550199")
    assert stopped[-1].final.cause == "CALL_REJECTED"
    assert any(d.rule == "blocked" and "Not from this desk" in d.text for d in stopped)
    assert all(d.rule != "blocked" for d in explain_route(acme, "1002", "16045550199"))
