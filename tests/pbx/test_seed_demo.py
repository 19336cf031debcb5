"""manage.py seed_demo (pbx/management/commands/seed_demo.py), which bin/run calls on every
start: the demo tree, its numbers and a tenant showing every PBX feature, idempotent."""

from __future__ import annotations

from django.core.management import call_command
from django_tenants.utils import schema_context

from pbx.explain import explain_route
from pbx.models import CallBlock, CallQueue, ConferenceRoom, Extension, FollowMe, Ivr, RingGroup, Schedule
from tenants.models import Account, Domain, PhoneNumber, User
from tests.conftest import route_to


def test_seed_demo_builds_the_demo_tree_and_is_idempotent(db):
    call_command("seed_demo")
    call_command("seed_demo")
    accounts = {a.name: a for a in Account.objects.all()}
    assert set(accounts) == {"Switchboard Demo Provider", "Northwind Telecom", "Acme Corp", "Beta Ltd"}
    acme, beta = accounts["Acme Corp"], accounts["Beta Ltd"]
    assert Account.objects.get_parent(acme) == accounts["Northwind Telecom"]
    assert Account.objects.get_parent(beta).is_master
    assert acme.primary_domain_name != beta.primary_domain_name
    assert acme.schema_name != beta.schema_name
    assert User.objects.get(username="reseller").check_password("demo-reseller-pass")
    employee = User.objects.get(username="acme-alice")  # My phone, bound to Acme's 1001
    assert employee.check_password("demo-alice-pass") and employee.account == accounts["Acme Corp"]
    assert Domain.objects.filter(domain="acme.localhost", tenant=acme).exists()
    routes = {n.e164: (n.account.name, n.route) for n in PhoneNumber.objects.all()}
    with schema_context(acme.schema_name):
        hours = Schedule.objects.get(name="Office hours")
    assert routes == {"+14165550100": ("Acme Corp", f"schedule:{hours.pk}"),
                      "+16045550199": ("Beta Ltd", route_to(beta, "extension", "1001"))}
    for account in (acme, beta):
        with schema_context(account.schema_name):
            assert list(Extension.objects.values_list("number", flat=True)) == [
                "1001", "1002", "1003", "1004", "1005"]
    with schema_context(acme.schema_name):
        assert employee.extension_pk == Extension.objects.get(number="1001").pk


def test_demo_shows_every_pbx_feature(db):
    """The run command's demo: a main number with a schedule and an IVR, a ring group, a
    call queue, a follow-me, a conference room and blocked numbers, explained end to end."""
    call_command("seed_demo")
    acme = Account.objects.get(name="Acme Corp")
    with schema_context(acme.schema_name):
        assert Schedule.objects.get().events.count() == 3
        assert Ivr.objects.get().options.count() == 7
        queue = CallQueue.objects.get(number="5000")
        assert Ivr.objects.get().options.get(key="4").destination == f"queue:{queue.pk}"
        assert [(a.extension.number, a.login_required) for a in queue.agents.select_related("extension")] == [
            ("1001", False), ("1002", False), ("1003", True)]
        assert RingGroup.objects.get().members.count() == 2
        assert FollowMe.objects.get().steps.count() == 2
        assert ConferenceRoom.objects.filter(number="3000").exists()
        assert list(CallBlock.objects.order_by("pk").values_list("extension__number", flat=True)) == [
            None, None, "1001"]
    text = "\n".join(str(d) for d in explain_route(acme, "+12125550123", "+14165550100"))
    assert "Schedule Office hours" in text
    blocked = [d.rule for d in explain_route(acme, "+19005550123", "+14165550100")]
    assert "blocked" in blocked
