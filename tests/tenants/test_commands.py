"""The management commands the README names."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tenants.actions import do_soft_delete_account
from tenants.models import Account, User


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
