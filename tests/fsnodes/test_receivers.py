"""pbx.signals.sip_credentials_changed, sent inside a pbx action's transaction, queues
``xml_flush_cache id USER DOMAIN`` for every username in every domain of the account."""

from __future__ import annotations

import pytest
from django.db import transaction

from fsnodes.models import NodeCommand
from pbx.signals import sip_credentials_changed


def send_change(tree, usernames=("1001", "1002")):
    sip_credentials_changed.send(
        sender=None, account=tree.c1,
        domains=["c1.example.net", "c1.localhost"], usernames=list(usernames),
    )


def test_a_committed_credential_change_flushes_every_user_in_every_domain(
        tree, make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        send_change(tree)
        assert fake_fs.received == []
    expected = [
        "xml_flush_cache id 1001 c1.example.net",
        "xml_flush_cache id 1001 c1.localhost",
        "xml_flush_cache id 1002 c1.example.net",
        "xml_flush_cache id 1002 c1.localhost",
    ]
    assert list(NodeCommand.objects.values_list("command", flat=True)) == expected
    assert fake_fs.api_commands == expected
    assert set(NodeCommand.objects.values_list("status", flat=True)) == {NodeCommand.Status.DONE}


def test_a_rolled_back_change_queues_nothing(tree, make_node, fake_fs,
                                             django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
            send_change(tree)
            raise RuntimeError("validation failed after the signal")
    assert NodeCommand.objects.count() == 0
    assert callbacks == []


def test_a_name_freeswitch_cannot_take_as_one_argument_is_skipped(tree, make_node, fake_fs, caplog):
    make_node(fake_fs)
    send_change(tree, usernames=["1001", "bad name"])
    assert list(NodeCommand.objects.values_list("command", flat=True)) == [
        "xml_flush_cache id 1001 c1.example.net",
        "xml_flush_cache id 1001 c1.localhost",
    ]
    assert "cannot flush FreeSWITCH's cache for 'bad name'" in caplog.text


def test_no_usernames_queue_nothing(tree, make_node, fake_fs):
    make_node(fake_fs)
    send_change(tree, usernames=[])
    assert NodeCommand.objects.count() == 0


def test_rotating_a_device_secret_flushes_it_on_freeswitch(
        tree, make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks):
    """End to end through the pbx action that sends the signal."""
    from pbx.actions import do_add_device, do_create_extension, do_update_device

    extension = do_create_extension(tree.c1, number="1001", name="Alice")
    device, _ = do_add_device(tree.c1, extension, secret="first-secret-1234")
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        do_update_device(tree.c1, device, rotate_secret=True)
    assert fake_fs.api_commands == [
        "xml_flush_cache id 1001 c1.example.net",
        "xml_flush_cache id 1001 c1.localhost",
    ]


def test_a_trunk_change_drops_the_old_gateway_and_rescans(tree, make_node, fake_fs, eager_celery,
                                                         django_capture_on_commit_callbacks):
    from carriers.actions import do_create_trunk, do_save_gateway

    make_node(fake_fs)
    master = tree.user("master_admin")
    with django_capture_on_commit_callbacks(execute=True):
        trunk = do_create_trunk(master, tree.master, name="A", gateways=[{"server": "a.example.com"}])
    gateway = trunk.gateways.get()
    with django_capture_on_commit_callbacks(execute=True):
        do_save_gateway(master, trunk, gateway, server="b.example.com")
    assert fake_fs.api_commands == [
        "sofia profile external rescan",
        f"sofia profile external killgw gw{gateway.pk}",
        "sofia profile external rescan",
    ]
