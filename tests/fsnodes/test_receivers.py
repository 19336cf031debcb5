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
        # The old secret no longer lets the phone in: its registration goes too.
        "sofia profile internal flush_inbound_reg 1001@c1.example.net",
        "sofia profile internal flush_inbound_reg 1001@c1.localhost",
    ]


def _flushed_registrations(fake_fs) -> list[str]:
    return [command for command in fake_fs.api_commands if "flush_inbound_reg" in command]


def test_a_phone_whose_credential_ended_is_unregistered_and_only_that_one(
        tree, make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks):
    """Removing a device, turning it or its extension off drops exactly those phones'
    registrations (sofia's ``flush_inbound_reg USER@DOMAIN``); an edit that leaves the
    credential working (a label) drops none."""
    from pbx.actions import (
        do_add_device,
        do_create_extension,
        do_delete_extension,
        do_remove_device,
        do_update_device,
        do_update_extension,
    )

    alice = do_create_extension(tree.c1, number="1001", name="Alice")
    desk, _ = do_add_device(tree.c1, alice)
    soft, _ = do_add_device(tree.c1, alice)
    bob = do_create_extension(tree.c1, number="1002", name="Bob")
    do_add_device(tree.c1, bob)
    make_node(fake_fs)

    def flushed_by(action) -> list[str]:
        before = len(_flushed_registrations(fake_fs))
        with django_capture_on_commit_callbacks(execute=True):
            action()
        return _flushed_registrations(fake_fs)[before:]

    assert flushed_by(lambda: do_update_device(tree.c1, desk, label="Desk")) == []
    assert flushed_by(lambda: do_update_device(tree.c1, soft, enabled=False)) == [
        "sofia profile internal flush_inbound_reg 1001-2@c1.example.net",
        "sofia profile internal flush_inbound_reg 1001-2@c1.localhost"]
    assert flushed_by(lambda: do_remove_device(tree.c1, soft)) == [
        "sofia profile internal flush_inbound_reg 1001-2@c1.example.net",
        "sofia profile internal flush_inbound_reg 1001-2@c1.localhost"]
    assert flushed_by(lambda: do_update_extension(tree.c1, alice, name="Alice Smith")) == []
    assert flushed_by(lambda: do_update_extension(tree.c1, alice, enabled=False)) == [
        "sofia profile internal flush_inbound_reg 1001@c1.example.net",
        "sofia profile internal flush_inbound_reg 1001@c1.localhost"]
    assert flushed_by(lambda: do_update_extension(tree.c1, alice, enabled=True)) == []
    assert flushed_by(lambda: do_delete_extension(tree.c1, bob)) == [
        "sofia profile internal flush_inbound_reg 1002@c1.example.net",
        "sofia profile internal flush_inbound_reg 1002@c1.localhost"]


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


def test_deleted_voicemail_boxes_lose_their_messages_on_freeswitch(
        tree, make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks):
    """A standalone box deleted, and an extension deleted with its box: mod_voicemail is
    told to drop their messages (only theirs: no message uuid, box@domain)."""
    from pbx.actions import (
        do_create_extension,
        do_create_voicemail_box,
        do_delete_extension,
        do_delete_voicemail_box,
    )

    extension = do_create_extension(tree.c1, number="1001", name="Alice")
    box, _ = do_create_voicemail_box(tree.c1, number="1099", name="General")
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_voicemail_box(tree.c1, box)
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_extension(tree.c1, extension)
    deletes = [c for c in fake_fs.api_commands if c.startswith("vm_delete")]
    assert deletes == ["vm_delete 1099@c1.example.net", "vm_delete 1001@c1.example.net"]


def test_a_refused_box_delete_tells_freeswitch_nothing(tree, make_node, fake_fs):
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from pbx.actions import do_create_extension, do_delete_voicemail_box
    from pbx.models import VoicemailBox

    extension = do_create_extension(tree.c1, number="1001", name="Alice")
    make_node(fake_fs)
    from django_tenants.utils import schema_context

    with schema_context(tree.c1.schema_name):
        box = VoicemailBox.objects.get(extension=extension)
    with pytest.raises(ValidationError), transaction.atomic():
        do_delete_voicemail_box(tree.c1, box)  # its extension still sends calls there
    assert not NodeCommand.objects.filter(command__startswith="vm_delete").exists()
