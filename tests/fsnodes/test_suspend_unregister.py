"""Suspending (or deleting) an account drops its phones' registrations in sofia, and those
of every account below it, through the node outbox (issue 16)."""

from __future__ import annotations

from fsnodes.models import NodeCommand
from tenants.actions import do_reactivate_account, do_soft_delete_account, do_suspend_account


def flushes(tree=None) -> list[str]:
    return sorted(NodeCommand.objects.filter(command__contains="flush_inbound_reg")
                  .values_list("command", flat=True))


def test_suspending_a_customer_flushes_its_domains_registrations(
        tree, make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        do_suspend_account(tree.user("r1_admin"), tree.c1, ip="192.0.2.1")
    expected = ["sofia profile internal flush_inbound_reg c1.example.net",
                "sofia profile internal flush_inbound_reg c1.localhost"]
    assert flushes() == expected
    assert sorted(c for c in fake_fs.api_commands if "flush_inbound_reg" in c) == expected


def test_suspending_a_reseller_flushes_every_account_below_it(
        tree, make_node, fake_fs, django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        do_suspend_account(tree.user("master_admin"), tree.r1)
    hosts = {command.rsplit(" ", 1)[1] for command in flushes()}
    assert hosts == {"r1.example.net", "r1.localhost", "c1.example.net", "c1.localhost",
                     "r1a.example.net", "r1a.localhost", "c1a.example.net", "c1a.localhost"}
    # Nobody else's phones.
    assert not any("c2." in host or "c0." in host for host in hosts)


def test_a_deleted_account_is_flushed_and_reactivation_flushes_nothing(
        tree, make_node, fake_fs, settings, django_capture_on_commit_callbacks):
    settings.PHONE_PROFILE = "phones"
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        do_soft_delete_account(tree.user("r2_admin"), tree.c2)
    assert flushes() == ["sofia profile phones flush_inbound_reg c2.example.net",
                         "sofia profile phones flush_inbound_reg c2.localhost"]
    NodeCommand.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        do_suspend_account(tree.user("master_admin"), tree.c0)
    NodeCommand.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        do_reactivate_account(tree.user("master_admin"), tree.c0)
    assert flushes() == []


def test_nothing_is_queued_before_the_suspension_commits(tree, make_node, fake_fs,
                                                  django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks() as callbacks:
        do_suspend_account(tree.user("r1_admin"), tree.c1)
    # Inside the test's transaction nothing has committed: nothing queued yet.
    assert flushes() == []
    assert callbacks, "the flush waits for the commit"
