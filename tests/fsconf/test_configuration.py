"""section=configuration: sofia.conf from the profile files plus every trunk gateway;
every other configuration name is not found (FreeSWITCH keeps its static file)."""

from __future__ import annotations

import pytest
from lxml import etree

from carriers.actions import do_create_trunk, do_update_trunk
from fsconf.sections.configuration import BUILDERS
from tenants.actions import do_soft_delete_account, do_suspend_account
from tests.fsconf.replay import XML_CURL, replay_document, response


def fetch(name: str, **replacements: str) -> etree._Element:
    return replay_document(name, **replacements)


def gateways(root: etree._Element) -> dict[str, dict[str, str]]:
    return {
        g.get("name"): {p.get("name"): p.get("value") for p in g.iter("param")}
        for g in root.xpath("//profile[@name='external']/gateways/gateway")
    }


@pytest.fixture
def trunks(acme_beta):
    master = acme_beta.user("master_admin")
    platform = do_create_trunk(master, acme_beta.master, name="Platform", gateways=[
        {"server": "sip.carrier.example.com", "username": "acct", "password": "p<&>'\"",
         "register": True, "codecs": ["PCMU", "PCMA"]},
        {"server": "198.51.100.7", "port": 5080, "transport": "tcp"},
    ])
    local = do_create_trunk(acme_beta.user("r2_admin"), acme_beta.c2, name="Beta own",
                            gateways=[{"server": "beta.carrier.example.com"}])
    return acme_beta, platform, local


def test_startup_lists_both_profiles_with_every_gateway_in_external(trunks):
    _tree, platform, local = trunks
    root = fetch("configuration-sofia.conf-startup")
    assert root.find("section").get("name") == "configuration"
    configuration = root.find("section/configuration")
    assert configuration.get("name") == "sofia.conf"
    assert [p.get("name") for p in configuration.iter("profile")] == ["external", "internal"]
    found = gateways(root)
    first, second = platform.gateways.order_by("position")
    assert set(found) == {f"gw{first.pk}", f"gw{second.pk}", f"gw{local.gateways.get().pk}"}
    assert found[f"gw{first.pk}"] == {
        "username": "acct", "password": "p<&>'\"", "realm": "sip.carrier.example.com",
        "from-domain": "sip.carrier.example.com", "proxy": "sip.carrier.example.com:5060",
        "register": "true", "register-transport": "udp", "caller-id-in-from": "true",
        "context": "public",  # no ping: the trunk's default (tests/carriers/test_trunk_settings.py)
    }
    assert found[f"gw{second.pk}"]["proxy"] == "198.51.100.7:5080;transport=tcp"
    assert found[f"gw{second.pk}"]["register"] == "false"
    codecs = root.xpath(f"//gateway[@name='gw{first.pk}']/variables/variable")
    assert [(v.get("name"), v.get("value"), v.get("direction")) for v in codecs] == [
        ("absolute_codec_string", "PCMU,PCMA", "outbound")]
    # The phones' profile keeps the multi-tenant settings and gets no gateways.
    internal = root.xpath("//profile[@name='internal']")[0]
    params = {p.get("name"): p.get("value") for p in internal.find("settings")}
    assert params["challenge-realm"] == "auto_from"
    assert not {"force-register-domain", "force-subscription-domain",
                "force-register-db-domain"} & set(params)
    assert internal.find("gateways/gateway") is None


def test_profile_request_gets_only_that_profile(trunks):
    one = "configuration-sofia.conf-startup-profile-internal"
    root = fetch(one)
    assert [p.get("name") for p in root.iter("profile")] == ["internal"]
    root = fetch(one, **{"profile=internal": "profile=external"})
    assert [p.get("name") for p in root.iter("profile")] == ["external"]
    root = fetch(one, **{"profile=internal": "profile=nosuch"})
    assert root.find(".//result").get("status") == "not found"


def test_disabled_suspended_and_deleted_gateways_are_left_out(trunks, committed):
    tree, platform, local = trunks
    assert len(gateways(fetch("configuration-sofia.conf-startup"))) == 3
    with committed():
        do_update_trunk(tree.user("master_admin"), platform, enabled=False)
    assert set(gateways(fetch("configuration-sofia.conf-startup"))) == {f"gw{local.gateways.get().pk}"}
    with committed():
        do_suspend_account(tree.user("master_admin"), tree.r2)  # local's owner is below r2
    assert gateways(fetch("configuration-sofia.conf-startup")) == {}
    with committed():
        do_update_trunk(tree.user("master_admin"), platform, enabled=True)
        do_soft_delete_account(tree.user("master_admin"), tree.c2)
    assert len(gateways(fetch("configuration-sofia.conf-startup"))) == 2


@pytest.mark.parametrize("name", ["configuration-acl.conf-reloadacl"])
def test_other_configurations_are_not_found_like_the_capture(trunks, name):
    """acl.conf stays FreeSWITCH's static file (conference.conf is answered:
    tests/fsconf/test_conference_conf.py)."""
    root, captured = fetch(name), etree.fromstring(response(name).body)
    for document in (root, captured):
        assert document.find("section").get("name") == "result"
        assert document.find("section/result").get("status") == "not found"


def test_every_configuration_name_in_the_captures_answers(trunks):
    lines = (XML_CURL / "configuration-requests.txt").read_text().splitlines()
    names = {line.split("|")[1].strip() for line in lines if line[:1] in ("A", "B") and "|" in line}
    assert "sofia.conf" in names and len(names) > 15
    for name in sorted(names):
        root = fetch("configuration-sofia.conf-startup", **{"key_value=sofia.conf": f"key_value={name}"})
        expected = "configuration" if name in BUILDERS else "result"
        assert root.find("section").get("name") == expected, name
