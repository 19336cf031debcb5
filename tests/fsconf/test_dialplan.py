"""section=dialplan: the tenant context, checked against the captures."""

from __future__ import annotations

import re

from lxml import etree

from tenants.actions import do_suspend_account, do_update_account
from tests.conftest import route_to
from tests.fsconf.replay import replay_document, response
from tests.ringing import phone_dial


def call(name: str, **replacements: str) -> etree._Element:
    return replay_document(name, **replacements)


def rings(account, number: str, domain: str = "acme.example.net") -> tuple[str, str]:
    """The bridge that rings an extension: each of its phones (its one device, named like
    the extension) on each of the account's domains, and beside them its directed-pickup
    leg (*8 + the number answers the call)."""
    from django_tenants.utils import schema_context

    from pbx.models import Extension

    with schema_context(account.schema_name):
        pk = Extension.objects.get(number=number).pk
    aliases = account.domains.exclude(domain=domain).order_by("domain").values_list("domain", flat=True)
    domains = [domain, *aliases]
    return ("bridge", f"{phone_dial(number, [number], domains)},pickup/{account.schema_name}_extension_{pk}")


def actions(root: etree._Element) -> list[tuple[str, str]]:
    dialed = root.xpath(".//extension[condition/@field='destination_number']")[0]
    return [(a.get("application"), a.get("data") or "") for a in dialed.iter("action")]


def test_local_call_bridges_like_the_capture_then_asks_what_next(acme_beta):
    """Ringing ends by transferring to ~after:<disposition>:<extension>, whose lookup
    picks the forward or voicemail (tests/fsconf/test_routing.py). The captured bridge
    rang ``user/1002@acme.example.net``, which FreeSWITCH cuts to the first contact of its
    dial-string beside the pickup leg (issue 12): ours lists 1002's contacts instead."""
    root = call("dialplan-acme-1001-to-1002")
    captured = etree.fromstring(response("dialplan-acme-1001-to-1002").body)
    assert root.find(".//context").get("name") == captured.find(".//context").get("name")
    bridge = rings(acme_beta.c1, "1002")
    assert ("bridge", "user/1002@acme.example.net") in [(a.get("application"), a.get("data"))
                                                        for a in captured.iter("action")]
    assert bridge[1].startswith("[dialed_user=1002,dialed_domain=acme.example.net,")
    after = route_to(acme_beta.c1, "extension", "1002")
    assert actions(root) == [
        ("set", "hangup_after_bridge=true"), ("set", "continue_on_fail=true"),
        ("set", "call_timeout=25"), bridge,
        ("transfer", f"~after:${{originate_disposition}}:{after} XML acme.example.net"),
    ]
    condition = root.find(".//extension/condition[@field='destination_number']")
    assert condition.get("expression") == "^1002$"


def test_every_call_passes_the_account_limit_first(acme_beta):
    do_update_account(acme_beta.user("r1_admin"), acme_beta.c1, max_concurrent_calls=3)
    root = call("dialplan-acme-1001-to-1002")
    # Only the call record's marks come before it: variables, exported (test_call_record_marks).
    marks, first = root.findall(".//context/extension")[:2]
    assert {a.get("application") for a in marks.iter("action")} == {"export"}
    assert first.get("continue") == "true"
    limit = first.find("condition/action")
    assert (limit.get("application"), limit.get("data")) == (
        "limit", f"hash {acme_beta.c1.schema_name} calls 3 !NORMAL_TEMPORARY_FAILURE")


def test_same_number_in_another_tenant_stays_there(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"acme.example.net": "beta.example.net"})
    assert root.find(".//context").get("name") == "beta.example.net"
    assert rings(acme_beta.c2, "1002", "beta.example.net") in actions(root)
    assert b"acme" not in etree.tostring(root)


def test_unknown_number_is_unallocated(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"Destination-Number=1002": "Destination-Number=4242"})
    assert actions(root) == [("hangup", "UNALLOCATED_NUMBER")]


def test_own_voicemail_box(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"Destination-Number=1002": "Destination-Number=*97"})
    assert actions(root) == [("answer", ""), ("voicemail", "check default acme.example.net 1001")]
    condition = root.find(".//extension/condition[@field='destination_number']")
    assert condition.get("expression") == "^\\*97$"


def test_any_voicemail_box(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"Destination-Number=1002": "Destination-Number=*98"})
    assert actions(root) == [("answer", ""), ("voicemail", "check default acme.example.net")]


def test_suspended_tenant_calls_are_rejected(acme_beta):
    do_suspend_account(acme_beta.user("master_admin"), acme_beta.r1)
    root = call("dialplan-acme-1001-to-1002")
    assert root.find(".//context").get("name") == "acme.example.net"
    assert actions(root) == [("hangup", "CALL_REJECTED")]
    assert root.find(".//action[@application='limit']") is None


def test_unknown_context_is_not_found(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"acme.example.net": "gamma.example.net"})
    assert root.find(".//result").get("status") == "not found"


def test_master_domain_is_no_context(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"acme.example.net": "localhost"})
    assert root.find(".//result").get("status") == "not found"


def test_hostile_dialed_number_is_escaped(acme_beta):
    root = call("dialplan-acme-1001-to-1002",
                **{"Destination-Number=1002": "Destination-Number=1%3C%22%26.*"})
    condition = root.find(".//extension/condition[@field='destination_number']")
    assert condition.get("expression") == "^" + re.escape('1<"&.*') + "$"
    assert actions(root) == [("hangup", "UNALLOCATED_NUMBER")]
