"""The voicemail message mirror fed from the nodes (fsnodes.voicemail_messages): mod_voicemail's
vm::maintenance events through the node manager, vm_list listings, the reconcile."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import schema_context

from common.signals import voicemail_left
from fsnodes.manager import get_client
from fsnodes.voicemail_messages import parse_listing, reconcile_all, reconcile_box
from pbx.actions import do_create_voicemail_box
from pbx.models import VoicemailMessage
from tests.fakes.freeswitch_esl import event_template, rewrite
from tests.fsnodes.manager_helpers import wait_for

UUID = "6f1a3c52-2d4e-4d5b-9f0a-1b2c3d4e5f60"
PATH = f"/var/lib/freeswitch/storage/voicemail/default/c1.example.net/7000/msg_{UUID}.wav"
LIST_7000 = "vm_list 7000@c1.example.net/default"


def vm_event(action: str, **values: str) -> list[tuple[str, str]]:
    """A vm::maintenance event as mod_voicemail fires it (mod_voicemail.c deliver_vm,
    update_mwi): the common headers, then its own in its order."""
    common = [(n, v) for n, v in event_template("BACKGROUND_JOB")
              if not n.startswith(("Job-", "Event-Calling"))]
    return [*rewrite(common, {"Event-Name": "CUSTOM"}), ("Event-Subclass", "vm::maintenance"),
            ("VM-Action", action), *values.items()]


def leave_message_event(stamp: int) -> list[tuple[str, str]]:
    return vm_event("leave-message", **{
        "VM-User": "7000", "VM-Domain": "c1.example.net", "VM-Caller-ID-Name": "Bob: Sales",
        "VM-Caller-ID-Number": "5551234", "VM-File-Path": PATH, "VM-Flags": "", "VM-Folder": "inbox",
        "VM-UUID": UUID, "VM-Message-Len": "9", "VM-Timestamp": str(stamp)})


def mwi_event() -> list[tuple[str, str]]:
    return vm_event("mwi-update", **{"VM-User": "7000", "VM-Domain": "c1.example.net",
                                     "VM-Total-New": "0", "VM-Total-Saved": "1"})


def listing_line(created: int, read: int, uuid: str = UUID, name: str = "Bob: Sales") -> str:
    return f"{created}:{read}:7000:c1.example.net:inbox:{PATH}:{uuid}:{name}:5551234:9\n"


def test_a_listing_is_read_with_colons_in_the_callers_name():
    text = listing_line(1765100000, 0) + listing_line(1765100100, 1765100200, "a" * 36, "") + "-ERR nope\n\n"
    first, second = parse_listing(text)
    assert (first.uuid, first.caller_id_name, first.caller_id_number, first.duration) == (
        UUID, "Bob: Sales", "5551234", 9)
    assert (first.created_epoch, first.read_epoch, first.folder, first.file_path) == (
        1765100000, 0, "inbox", PATH)
    assert (second.uuid, second.caller_id_name, second.read_epoch) == ("a" * 36, "", 1765100200)
    assert parse_listing("+OK\n") == parse_listing("") == []


@pytest.fixture
def box(tree):
    box, _pin = do_create_voicemail_box(tree.c1, number="7000", name="General")
    return box


def rows(tree):
    with schema_context(tree.c1.schema_name):
        return list(VoicemailMessage.objects.values_list("uuid", "read_at", "caller_id_name", "duration"))


def test_the_manager_mirrors_left_read_and_deleted_messages(tree, box, make_node, fake_fs, start_manager,
                                                            committed):
    """leave-message makes the row (and voicemail_left once); an mwi-update after the phone
    read it lists the box and marks it read; one after the phone deleted it removes it."""
    make_node(fake_fs)
    manager = start_manager(voicemail_messages=True, resync_conferences=False, drain_outbox=False)
    # The database work runs in this thread, inside the test's transaction (the manager
    # runs it in pool threads on their own connections, which cannot see uncommitted rows).
    manager.voicemail_feed.run_in_thread = lambda fn, *args: fn(*args)
    wait_for(lambda: fake_fs.subscribed >= 1, what="the subscription")
    assert any(r.command.endswith("CUSTOM conference::maintenance vm::maintenance") for r in fake_fs.received)
    heard = []
    voicemail_left.connect(receiver := lambda sender, message, **kw: heard.append(message.uuid))
    try:
        stamp = int(time.time()) - 3600
        with committed():
            fake_fs.emit(leave_message_event(stamp))
            fake_fs.emit(leave_message_event(stamp))  # a repeat changes nothing
            wait_for(lambda: manager.voicemail_feed.handled >= 2, what="the leave-message events")
    finally:
        voicemail_left.disconnect(receiver)
    assert heard == [UUID]
    assert [(u, r, n, d) for u, r, n, d in rows(tree)] == [(UUID, None, "Bob: Sales", 9)]

    fake_fs.api_replies[LIST_7000] = listing_line(stamp, stamp + 60)
    fake_fs.emit(mwi_event())
    wait_for(lambda: manager.voicemail_feed.handled >= 3, what="the mwi-update")
    assert LIST_7000 in fake_fs.api_commands
    assert rows(tree)[0][1] is not None

    fake_fs.api_replies[LIST_7000] = ""
    fake_fs.emit(mwi_event())
    wait_for(lambda: manager.voicemail_feed.handled >= 4, what="the second mwi-update")
    assert rows(tree) == []


def test_an_event_for_an_unknown_domain_is_dropped(tree, box, make_node, fake_fs, start_manager, caplog):
    make_node(fake_fs)
    manager = start_manager(voicemail_messages=True, resync_conferences=False, drain_outbox=False)
    manager.voicemail_feed.run_in_thread = lambda fn, *args: fn(*args)
    wait_for(lambda: fake_fs.subscribed >= 1, what="the subscription")
    fake_fs.emit(rewrite(leave_message_event(int(time.time())), {"VM-Domain": "c2.example.net"}))
    fake_fs.emit(rewrite(leave_message_event(int(time.time())), {"VM-Domain": "nowhere.example.org"}))
    wait_for(lambda: manager.voicemail_feed.handled >= 2, what="the events")
    assert rows(tree) == []
    assert "not mirrored (no such account)" in caplog.text


def test_a_box_is_reconciled_on_demand_and_by_the_beat_task(tree, box, make_node, fake_fs):
    """Messages left while no manager listened appear from a listing, from either path."""
    make_node(fake_fs)
    stamp = int(time.time()) - 7200
    fake_fs.api_replies[LIST_7000] = listing_line(stamp, 0)
    assert reconcile_box(tree.c1, box, get_client()) == 1
    assert [u for u, *_ in rows(tree)] == [UUID]
    fake_fs.api_replies[LIST_7000] = listing_line(stamp, 0) + listing_line(stamp, stamp + 5, "b" * 36)
    assert reconcile_all() >= 1
    assert sorted(u for u, *_ in rows(tree)) == sorted([UUID, "b" * 36])


def test_a_node_that_is_down_is_skipped(tree, box, make_node, fake_fs):
    make_node(fake_fs)
    fake_fs.stop()
    assert reconcile_box(tree.c1, box, get_client()) == 0
    assert reconcile_all(connect_timeout=0.5) == 0
