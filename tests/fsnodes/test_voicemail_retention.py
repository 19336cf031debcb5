"""Voicemail retention against the fake FreeSWITCH event socket: messages older than
their box keeps them are deleted on each node, box by box and domain by domain.

The ``vm_list`` answers are built from mod_voicemail.c (``api_list_callback``'s text
format); no capture of them exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsnodes.models import NodeCommand
from fsnodes.voicemail_retention import parse_vm_list, sweep
from pbx.actions import do_create_voicemail_box, do_update_voicemail_box
from tests.pbx.routing_helpers import extension

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OLD = "3f1b2c9e-1111-4a5b-9c1d-000000000001"
FRESH = "3f1b2c9e-2222-4a5b-9c1d-000000000002"
BETA_OLD = "3f1b2c9e-3333-4a5b-9c1d-000000000003"


def mod_voicemail(listings: dict[str, str]):
    """An api handler answering as mod_voicemail.c does: vm_list from ``listings`` (empty
    for a box without messages), and "-OK\n" (sic: its success reply starts with a dash)
    for vm_fsdb_msg_delete / vm_fsdb_msg_purge."""
    def answer(command: str) -> str | None:
        if command.startswith("vm_list "):
            return listings.get(command, "")
        if command.startswith(("vm_fsdb_msg_delete ", "vm_fsdb_msg_purge ")):
            return "-OK\n"
        return None
    return answer


def line(box: str, domain: str, uuid: str, age: timedelta, cid_name: str = "Caller") -> str:
    created = int((NOW - age).timestamp())
    path = f"/srv/fs/storage/voicemail/default/{domain}/{box}/msg_{uuid}.wav"
    return f"{created}:0:{box}:{domain}:inbox:{path}:{uuid}:{cid_name}:+14165550123:12"


def test_vm_list_lines_are_read_even_with_colons_in_the_caller_name():
    text = (line("1001", "c1.example.net", OLD, timedelta(days=3), cid_name="Dr: Who") + "\n"
            + "-ERR can't find user or profile.\n")
    (message,) = parse_vm_list(text)
    assert message.uuid == OLD and message.created_epoch == int((NOW - timedelta(days=3)).timestamp())


def test_only_messages_older_than_keep_days_are_deleted(tree, fake_fs, make_node, eager_celery,
                                                        committed):
    extension(tree.c1, "1001")
    box = extension(tree.c2, "1001")
    from django_tenants.utils import schema_context

    from pbx.models import VoicemailBox

    with schema_context(tree.c2.schema_name):
        beta_box = VoicemailBox.objects.get(extension=box)
    do_update_voicemail_box(tree.c2, beta_box, keep_days=60)
    listings = {
        "vm_list 1001@c1.example.net/default": "\n".join([
            line("1001", "c1.example.net", OLD, timedelta(days=31)),
            line("1001", "c1.example.net", FRESH, timedelta(days=29)),
        ]) + "\n",
        "vm_list 1001@c2.example.net/default":
            line("1001", "c2.example.net", BETA_OLD, timedelta(days=40)) + "\n",
    }
    fake_fs.api_handler = mod_voicemail(listings)
    node = make_node(fake_fs)

    with committed():
        queued = sweep(now=NOW)

    deletes = [c for c in fake_fs.api_commands if c.startswith("vm_fsdb")]
    assert deletes == [f"vm_fsdb_msg_delete default c1.example.net 1001 {OLD}",
                       "vm_fsdb_msg_purge default c1.example.net 1001"]
    assert queued == 2
    assert set(NodeCommand.objects.filter(node=node).values_list("status", flat=True)) == {"done"}
    # Every box of every tenant was asked about, under its own domain.
    assert {c for c in fake_fs.api_commands if c.startswith("vm_list")} == set(listings)


def test_standalone_boxes_are_swept_too(tree, fake_fs, make_node, eager_celery, committed):
    box, _ = do_create_voicemail_box(tree.c1, number="8000", name="Sales")
    do_update_voicemail_box(tree.c1, box, keep_days=1)
    fake_fs.api_handler = mod_voicemail({"vm_list 8000@c1.example.net/default":
                                         line("8000", "c1.example.net", OLD, timedelta(days=2)) + "\n"})
    make_node(fake_fs)
    with committed():
        assert sweep(now=NOW) == 2
    assert f"vm_fsdb_msg_delete default c1.example.net 8000 {OLD}" in fake_fs.api_commands


def test_nothing_old_queues_nothing(tree, fake_fs, make_node):
    extension(tree.c1, "1001")
    fake_fs.api_replies["vm_list 1001@c1.example.net/default"] = (
        line("1001", "c1.example.net", FRESH, timedelta(days=1)) + "\n")
    node = make_node(fake_fs)
    assert sweep(now=NOW) == 0
    assert not NodeCommand.objects.filter(node=node).exists()


def test_a_node_without_the_voicemail_profile_is_left_alone(tree, fake_fs, make_node):
    extension(tree.c1, "1001")
    extension(tree.c1, "1002")
    fake_fs.api_handler = lambda command: ("-ERR can't find user or profile.\n"
                                           if command.startswith("vm_list") else None)
    node = make_node(fake_fs)
    assert sweep(now=NOW) == 0
    assert [c for c in fake_fs.api_commands if c.startswith("vm_list")] == [
        "vm_list 1001@c1.example.net/default"]  # the first answer tells for all
    assert not NodeCommand.objects.filter(node=node).exists()


def test_an_unreachable_node_is_skipped_and_the_others_swept(tree, fake_fs, second_fs, make_node,
                                                              eager_celery, committed):
    extension(tree.c1, "1001")
    second_fs.api_handler = mod_voicemail({"vm_list 1001@c1.example.net/default":
                                           line("1001", "c1.example.net", OLD, timedelta(days=45)) + "\n"})
    make_node(fake_fs, name="fs-down")
    make_node(second_fs, name="fs-up")
    fake_fs.stop()
    with committed():
        assert sweep(now=NOW, connect_timeout=1.0, reply_timeout=1.0) == 2
    assert f"vm_fsdb_msg_delete default c1.example.net 1001 {OLD}" in second_fs.api_commands
