"""Per-trunk settings issue 12 asked for: the number format a carrier gets (a rule without
a group sent ``99+14165550199``), and gateway pinging with a failure count (every gateway
had ``ping=30`` and went down at one unanswered OPTIONS)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from carriers.actions import do_create_trunk, do_update_trunk
from carriers.models import NumberFormat, Trunk
from carriers.routing import Caller, TrunkView, route_outbound, trunks_of
from carriers.signals import gateways_changed
from fsconf.sections.configuration import sofia_conf
from tests.carriers.test_admin import TRUNKS, admin_as, existing_rows, trunk_form

ANYWHERE = Caller(toll_allow=frozenset({"local", "domestic", "international"}),
                  caller_id_number="+12125550100", caller_id_name="C1")


def view(number_format: str = NumberFormat.E164_DIGITS, national_country: str = "",
         rules: tuple[str, ...] = ()) -> TrunkView:
    return TrunkView(name="T", emergency=False, rules=rules, caller_id_regex="", caller_id_prefix="",
                     caller_id_value="", gateways=(), number_format=number_format,
                     national_country=national_country)


@pytest.mark.parametrize(("number_format", "country", "e164", "sent"), [
    (NumberFormat.E164_DIGITS, "", "+14165550199", "14165550199"),
    (NumberFormat.E164, "", "+14165550199", "+14165550199"),
    (NumberFormat.NATIONAL, "US", "+12125550123", "12125550123"),      # NANP: 1 + ten digits
    (NumberFormat.NATIONAL, "US", "+442079460000", "011442079460000"),  # abroad: 011
    (NumberFormat.NATIONAL, "GB", "+442079460000", "02079460000"),      # the national prefix 0
    (NumberFormat.NATIONAL, "GB", "+14165550199", "0014165550199"),     # abroad: 00
    (NumberFormat.NATIONAL, "DE", "+4930123456", "030123456"),
])
def test_number_formats(number_format, country, e164, sent):
    assert view(number_format, country).number_for(e164) == sent


def test_a_rule_group_is_sent_as_captured_and_a_rule_without_one_in_the_format():
    assert view(rules=(r"^\+(1\d{10})$",)).number_for("+14165550199") == "14165550199"
    assert view(NumberFormat.E164, rules=(r"^\+44(\d+)$",)).number_for("+442079460000") == "2079460000"
    assert view(rules=(r"^\+1\d{10}$",)).number_for("+14165550199") == "14165550199"
    assert view(NumberFormat.E164, rules=(r"^\+1",)).number_for("+14165550199") == "+14165550199"
    assert view(rules=(r"^\+44",)).number_for("+14165550199") is None


def test_the_gateway_prefix_goes_before_the_formatted_number(tree):
    """The reported leg: a rule without a group and a prefix gave 99+14165550199."""
    master = tree.user("master_admin")
    do_create_trunk(master, tree.master, name="Prefixed", rules=[r"^\+1\d{10}$"],
                    gateways=[{"server": "a.carrier.example.com", "prefix": "99"}])
    do_create_trunk(master, tree.master, name="National UK", weight_cost=60, rules=[],
                    number_format=NumberFormat.NATIONAL, national_country="GB",
                    gateways=[{"server": "b.carrier.example.com", "prefix": "7"}])
    route = route_outbound(tree.c1, trunks_of(tree.master.pk), "+12125550123", ANYWHERE)
    assert [leg.number for leg in route.legs] == ["9912125550123", "70012125550123"]


def test_emergency_numbers_are_sent_as_dialed(tree):
    do_create_trunk(tree.user("master_admin"), tree.master, name="E", emergency=True,
                    number_format=NumberFormat.E164, gateways=[{"server": "a.carrier.example.com"}])
    route = route_outbound(tree.c1, trunks_of(tree.master.pk), "911", ANYWHERE)
    assert [leg.number for leg in route.legs] == ["911"]


def test_the_national_format_needs_a_country(tree):
    with pytest.raises(ValidationError) as raised:
        do_create_trunk(tree.user("master_admin"), tree.master, name="N", number_format=NumberFormat.NATIONAL,
                        gateways=[{"server": "a.carrier.example.com"}])
    assert "national_country" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        do_create_trunk(tree.user("master_admin"), tree.master, name="N", number_format=NumberFormat.NATIONAL,
                        national_country="XX", gateways=[{"server": "a.carrier.example.com"}])
    assert "national_country" in raised.value.message_dict
    assert not Trunk.objects.filter(name="N").exists()


# -- pinging --------------------------------------------------------------------------------


def rendered_gateways() -> dict[str, dict[str, str]]:
    root = etree.fromstring(sofia_conf())
    return {g.get("name"): {p.get("name"): p.get("value") for p in g.iter("param")}
            for g in root.xpath("//profile[@name='external']/gateways/gateway")}


def test_no_pings_by_default_and_the_trunks_settings_when_on(tree):
    master = tree.user("master_admin")
    quiet = do_create_trunk(master, tree.master, name="Quiet", gateways=[{"server": "a.carrier.example.com"}])
    pinged = do_create_trunk(master, tree.master, name="Pinged", ping_interval=20, ping_failures=4,
                             gateways=[{"server": "b.carrier.example.com"},
                                       {"server": "c.carrier.example.com"}])
    found = rendered_gateways()
    assert (quiet.ping_interval, quiet.ping_failures) == (0, 3)
    assert not {"ping", "ping-min", "ping-max"} & set(found[f"gw{quiet.gateways.get().pk}"])
    for gateway in pinged.gateways.all():
        params = found[gateway.freeswitch_name]
        assert (params["ping"], params["ping-min"], params["ping-max"]) == ("20", "1", "4")


@pytest.mark.parametrize(("fields", "error_field"), [
    ({"ping_interval": 4}, "ping_interval"),  # sofia refuses below 5 s and then never pings
    ({"ping_interval": 3601}, "ping_interval"),
    ({"ping_interval": 30, "ping_failures": 0}, "ping_failures"),
    ({"ping_interval": 30, "ping_failures": 11}, "ping_failures"),
])
def test_ping_settings_out_of_range_are_field_errors(tree, fields, error_field):
    with pytest.raises(ValidationError) as raised:
        do_create_trunk(tree.user("master_admin"), tree.master, name="P", **fields,
                        gateways=[{"server": "a.carrier.example.com"}])
    assert error_field in raised.value.message_dict


def test_changing_the_pinging_recreates_the_trunks_gateways(tree):
    """sofia applies gateway params only when it creates a gateway: the trunk's gateways are
    dropped (killgw) before the rescan that re-creates them."""
    master = tree.user("master_admin")
    trunk = do_create_trunk(master, tree.master, name="A", gateways=[
        {"server": "a.carrier.example.com"}, {"server": "b.carrier.example.com"}])
    sent: list[list[str]] = []

    def listen(sender, *, stale=(), **kwargs):
        sent.append(sorted(stale))

    gateways_changed.connect(listen, dispatch_uid="test_trunk_settings")
    try:
        do_update_trunk(master, trunk, ping_interval=30)
        do_update_trunk(master, trunk, weight_cost=10)
        do_update_trunk(master, trunk, number_format=NumberFormat.E164)
    finally:
        gateways_changed.disconnect(dispatch_uid="test_trunk_settings")
    assert sent == [sorted(g.freeswitch_name for g in trunk.gateways.all()), [], []]


def test_admin_shows_and_saves_the_settings(tree):
    browser = admin_as(tree, "master_admin")
    trunk = do_create_trunk(tree.user("master_admin"), tree.master, name="Platform",
                            gateways=[{"server": "a.carrier.example.com"}])
    html = browser.get(f"{TRUNKS}{trunk.pk}/change/").content.decode()
    for name in ("number_format", "national_country", "ping_interval", "ping_failures"):
        assert f'name="{name}"' in html
    response = browser.post(f"{TRUNKS}{trunk.pk}/change/", trunk_form(
        name="Platform", existing=existing_rows(trunk), gateways=(), ping_interval="2"))
    assert response.status_code == 200 and "Ping at least every 5 seconds" in response.content.decode()
    response = browser.post(f"{TRUNKS}{trunk.pk}/change/", trunk_form(
        name="Platform", existing=existing_rows(trunk), gateways=(), ping_interval="30", ping_failures="5",
        number_format="national", national_country="GB"))
    assert response.status_code == 302, response.content.decode()[:3000]
    trunk.refresh_from_db()
    assert (trunk.ping_interval, trunk.ping_failures, trunk.number_format, trunk.national_country) == (
        30, 5, "national", "GB")
    listing = browser.get(TRUNKS).content.decode()
    assert "every 30 s, down after 5 unanswered" in listing
