"""The management commands the README names."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tenants.actions import do_soft_delete_account
from tenants.models import Account, Domain, User


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
    assert Domain.objects.filter(domain="acme.localhost", tenant=acme).exists()
    from django_tenants.utils import schema_context

    from pbx.models import Extension
    from tenants.models import PhoneNumber
    from tests.conftest import route_to

    routes = {n.e164: (n.account.name, n.route) for n in PhoneNumber.objects.all()}
    from pbx.models import Schedule

    with schema_context(acme.schema_name):
        hours = Schedule.objects.get(name="Office hours")
    assert routes == {"+14165550100": ("Acme Corp", f"schedule:{hours.pk}"),
                      "+16045550199": ("Beta Ltd", route_to(beta, "extension", "1001"))}
    for account in (acme, beta):
        with schema_context(account.schema_name):
            assert list(Extension.objects.values_list("number", flat=True)) == [
                "1001", "1002", "1003", "1004", "1005"]


def test_bootstrap_master_runs_once(db):
    args = ["--name", "Prov", "--domain", "admin.example.net", "--domain", "127.0.0.1",
            "--admin-username", "root", "--admin-password", "a-long-root-password"]
    call_command("bootstrap_master", *args)
    master = Account.objects.get(kind=Account.Kind.MASTER)
    assert master.schema_name == "public"
    assert [d.domain for d in master.domains.all()] == ["admin.example.net", "127.0.0.1"]
    with pytest.raises(CommandError, match="already exists"):
        call_command("bootstrap_master", *args)


def test_purge_lists_without_yes_and_purges_with_it(tree, capsys):
    do_soft_delete_account(tree.user("r2_admin"), tree.c2)
    call_command("purge_accounts")
    assert "would purge" in capsys.readouterr().out
    assert Account.objects.filter(pk=tree.c2.pk).exists()
    call_command("purge_accounts", "--yes")
    assert "purged" in capsys.readouterr().out
    assert not Account.objects.filter(pk=tree.c2.pk).exists()
    assert not User.objects.filter(username="c2_admin").exists()


def test_purge_respects_age(tree, capsys):
    do_soft_delete_account(tree.user("r2_admin"), tree.c2)
    call_command("purge_accounts", "--older-than-days", "30", "--yes")
    assert "Nothing to purge" in capsys.readouterr().out
    assert Account.objects.filter(pk=tree.c2.pk).exists()


def test_purge_refuses_a_live_account(tree):
    with pytest.raises(CommandError):
        call_command("purge_accounts", "--account", str(tree.c2.pk), "--yes")


def test_migrate_all_is_repeatable(tree):
    call_command("migrate_all", verbosity=0)
    call_command("migrate_all", verbosity=0)


def test_demo_shows_every_pbx_feature(db):
    """The run command's demo: a main number with a schedule and an IVR, a ring group, a
    call queue, a follow-me, a conference room and blocked numbers, explained end to end."""
    from django_tenants.utils import schema_context

    from pbx.explain import explain_route
    from pbx.models import CallBlock, CallQueue, ConferenceRoom, FollowMe, Ivr, RingGroup, Schedule
    from tenants.models import Account

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
        assert CallBlock.objects.count() == 2
    text = "\n".join(str(d) for d in explain_route(acme, "+12125550123", "+14165550100"))
    assert "Schedule Office hours" in text
    blocked = [d.rule for d in explain_route(acme, "+19005550123", "+14165550100")]
    assert "blocked" in blocked
