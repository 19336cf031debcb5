"""The channel variables every dialplan answer exports so that each leg's call record can
be attributed (cdr.ingest): the account's id, the DID a carrier call came in on, and the
kind of destination. First in the document, so calls refused by the limit or a block are
attributed too; ``export`` puts them on the legs we bridge to as well."""

from __future__ import annotations

from lxml import etree

from tests.fsconf.test_dialplan import call
from tests.fsconf.test_outbound import carriers, dial  # noqa: F401  (fixture)
from tests.fsconf.test_routing import did, public_document  # noqa: F401  (fixture)


def marks(root: etree._Element) -> dict[str, str]:
    first = root.find(".//context/extension")
    assert (first.get("name"), first.get("continue")) == ("switchboard-call-record", "true")
    condition = first.find("condition")
    assert condition.get("field") is None  # always
    return _exported(condition)


def _exported(condition: etree._Element, tag: str = "action") -> dict[str, str]:
    exported = {}
    for action in condition.iter(tag):
        assert action.get("application") == "export"
        name, _, value = action.get("data").partition("=")
        exported[name] = value
    return exported


def test_internal_call_names_the_account_and_the_extension_kind(acme_beta):
    assert marks(call("dialplan-acme-1001-to-1002")) == {
        "switchboard_account": str(acme_beta.c1.pk), "switchboard_dest_kind": "extension"}


def test_each_tenant_names_its_own_account(acme_beta):
    root = call("dialplan-acme-1001-to-1002", **{"acme.example.net": "beta.example.net"})
    assert marks(root)["switchboard_account"] == str(acme_beta.c2.pk) != str(acme_beta.c1.pk)


def test_own_voicemail_and_unknown_numbers(acme_beta):
    voicemail = call("dialplan-acme-1001-to-1002", **{"Destination-Number=1002": "Destination-Number=*97"})
    assert marks(voicemail)["switchboard_dest_kind"] == "check_voicemail"
    unknown = call("dialplan-acme-1001-to-1002", **{"Destination-Number=1002": "Destination-Number=4242"})
    assert marks(unknown) == {"switchboard_account": str(acme_beta.c1.pk), "switchboard_dest_kind": "hangup"}


def test_did_call_names_the_account_and_the_did_before_anything(did, acme_beta):  # noqa: F811
    first = public_document().find(".//context/extension")
    assert (first.get("name"), first.get("continue")) == ("switchboard-call-record", "true")
    condition = first.find("condition")
    # A carrier's call: nothing named an account yet; both legs get the called one.
    assert (condition.get("field"), condition.get("expression")) == ("${switchboard_account}", "^$")
    # The DID's route is an extension reached by a transfer: that lookup names the kind.
    expected = {"switchboard_account": str(acme_beta.c1.pk), "switchboard_did": "+14165550100"}
    assert _exported(condition) == expected
    # One of our tenants' calls sent on-net keeps the caller's account on its own leg;
    # the called account and the DID go to the legs it bridges to only.
    on_net = {f"nolocal:{name}": value for name, value in expected.items()}
    assert _exported(condition, "anti-action") == on_net


def test_outbound_call_says_outbound(carriers):  # noqa: F811
    tree, _a, _b = carriers
    assert marks(dial("4165550123")) == {"switchboard_account": str(tree.c1.pk),
                                         "switchboard_dest_kind": "outbound"}
