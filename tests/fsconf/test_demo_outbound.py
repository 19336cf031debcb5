"""The demo calls out: its platform trunk (carriers/demo.py, a placeholder test carrier at
127.0.0.1:5080) carries 911 and ordinary numbers, where before every outside call ended
in NO_ROUTE_DESTINATION. Dialed as the demo's Acme extension 1001 (the capture's caller)."""

from __future__ import annotations

from django.core.management import call_command

from carriers.demo import DEMO_TRUNK
from carriers.models import Trunk
from pbx.explain import explain_route
from tenants.models import Account
from tests.fsconf.test_configuration import fetch, gateways
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_outbound import bridge_legs, dial


def seeded(committed) -> str:
    """Seed the demo (twice: it is idempotent); the demo trunk's FreeSWITCH gateway name."""
    with committed():
        call_command("seed_demo")
    with committed():
        call_command("seed_demo")
    (trunk,) = Trunk.objects.filter(name=DEMO_TRUNK)
    assert trunk.account.is_master and trunk.emergency and trunk.enabled
    return trunk.gateways.get().freeswitch_name


def test_demo_911_and_a_domestic_number_bridge_to_the_demo_trunk(db, committed):
    gateway = seeded(committed)
    root = dial("911")
    assert bridge_legs(root) == [
        f"[leg_progress_timeout=20,origination_caller_id_number=+14165550100,"
        f"origination_caller_id_name=Acme Corp]sofia/gateway/{gateway}/911"]
    assert ("set", "emergency_call=true") in actions(root)
    (leg,) = bridge_legs(dial("6135550123"))  # an Ottawa number: the demo accounts are Canadian
    assert leg.endswith(f"sofia/gateway/{gateway}/16135550123")  # E.164 without +, the default


def test_demo_gateway_is_the_documented_test_carrier(db, committed):
    gateway = seeded(committed)
    params = gateways(fetch("configuration-sofia.conf-startup"))[gateway]
    assert params["proxy"] == "127.0.0.1:5080" and params["register"] == "false"


def test_demo_explains_the_emergency_call(db, committed):
    gateway = seeded(committed)
    acme = Account.objects.get(name="Acme Corp")
    final = explain_route(acme, "1001", "911")[-1].final
    assert final.emergency and final.bridge.endswith(f"sofia/gateway/{gateway}/911")
