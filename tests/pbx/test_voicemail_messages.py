"""Voicemail message actions (pbx.actions.voicemail_messages): the mirror of mod_voicemail's
messages, what changing one tells the nodes (queued in the outbox with the change), who
may read or change, and the recording read from the storage shared with the nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_tenants.utils import schema_context

from common.signals import voicemail_left
from fsnodes.models import FreeswitchNode, NodeCommand
from pbx.actions import do_create_voicemail_box
from pbx.actions.voicemail_messages import (
    LISTING_GRACE,
    ListedMessage,
    RecordingUnavailable,
    do_delete_message,
    do_mark_message_read,
    do_mark_message_unread,
    get_message,
    list_messages,
    message_audio,
    record_left_message,
    sync_box_messages,
)
from pbx.models import VoicemailMessage
from tenants.models import AuditEvent
from tenants.scoping import NotInSubtree

UUID = "0b7f7c2e-6a0c-4b8e-9a59-3f0e2f8f1a01"
LEFT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def box(tree):
    # A node to queue commands for (nothing is delivered: the test's transaction never commits).
    node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=9)
    node.set_esl_password("ClueCon")
    node.save()
    box, _pin = do_create_voicemail_box(tree.c1, number="7000", name="General")
    return box


@pytest.fixture
def storage(tmp_path, settings):
    """The nodes write under /var/lib/fs/vm; this server mounts the same at tmp_path."""
    settings.VOICEMAIL_STORAGE_DIR = "/var/lib/fs/vm"
    settings.VOICEMAIL_LOCAL_STORAGE_DIR = str(tmp_path)
    return tmp_path


def leave(tree, box_number="7000", uuid=UUID, **extra):
    fields = {"node": "fs-a", "file_path": f"/var/lib/fs/vm/c1.example.net/{box_number}/msg_{uuid}.wav",
              "created_at": LEFT, "duration": 7, "caller_id_name": "Bob", "caller_id_number": "5551234"}
    return record_left_message(tree.c1, box_number, uuid=uuid, **{**fields, **extra})


def commands() -> list[str]:
    return list(NodeCommand.objects.order_by("pk").values_list("command", flat=True))


def test_a_left_message_is_recorded_once_and_announced_after_commit(tree, box, committed):
    heard = []

    def receiver(sender, *, account, message, **kwargs):
        heard.append((account.pk, message.uuid, message.box.number))

    voicemail_left.connect(receiver)
    try:
        with committed():
            first = leave(tree)
            assert heard == []  # not before the row commits
        with committed():
            again = leave(tree, caller_id_name="Someone else")
    finally:
        voicemail_left.disconnect(receiver)
    assert heard == [(tree.c1.pk, UUID, "7000")]
    assert again.pk == first.pk
    with schema_context(tree.c1.schema_name):
        row = VoicemailMessage.objects.get()
    assert (row.caller_id_name, row.duration, row.node, row.read_at) == ("Bob", 7, "fs-a", None)


def test_a_message_for_a_box_that_is_gone_is_dropped(tree):
    assert leave(tree, box_number="7999") is None


def test_a_rolled_back_message_is_never_announced(tree, box, committed):
    heard = []
    voicemail_left.connect(receiver := lambda sender, **kw: heard.append(kw))
    try:
        with committed(), pytest.raises(RuntimeError), transaction.atomic():
            leave(tree)
            raise RuntimeError
    finally:
        voicemail_left.disconnect(receiver)
    assert heard == []


def test_list_filters_by_read_state_folder_and_date(tree, box):
    leave(tree, uuid="a" * 36, created_at=LEFT)
    leave(tree, uuid="b" * 36, created_at=LEFT + timedelta(days=1))
    admin = tree.user("r1_admin")
    with schema_context(tree.c1.schema_name):
        older = VoicemailMessage.objects.get(uuid="a" * 36)
    do_mark_message_read(tree.c1, older, actor=admin)
    with schema_context(tree.c1.schema_name):
        def uuids(**filters):
            return [m.uuid[0] for m in list_messages(tree.c1, box, actor=admin, **filters)]

        assert uuids() == ["b", "a"]
        assert uuids(read=True) == ["a"]
        assert uuids(read=False) == ["b"]
        assert uuids(since=LEFT + timedelta(hours=1)) == ["b"]
        assert uuids(until=LEFT + timedelta(hours=1)) == ["a"]
        assert uuids(folder="save") == []


def test_mark_read_and_unread_tell_the_nodes_so_the_light_follows(tree, box):
    admin = tree.user("r1_admin")
    message = leave(tree)
    read = do_mark_message_read(tree.c1, message, actor=admin, ip="192.0.2.7")
    assert read.read_at is not None
    unread = do_mark_message_unread(tree.c1, message, actor=admin, ip="192.0.2.7")
    assert unread.read_at is None
    assert commands() == [f"vm_read 7000@c1.example.net read {UUID}",
                          f"vm_read 7000@c1.example.net unread {UUID}"]
    events = AuditEvent.objects.filter(action__startswith="voicemail.message.")
    assert sorted(events.values_list("action", "actor", "ip")) == [
        ("voicemail.message.read", admin.pk, "192.0.2.7"),
        ("voicemail.message.unread", admin.pk, "192.0.2.7")]


def test_delete_removes_the_row_and_queues_the_box_scoped_delete_and_purge(tree, box):
    admin = tree.user("r1_admin")
    message = leave(tree)
    do_delete_message(tree.c1, message, actor=admin)
    do_delete_message(tree.c1, message, actor=admin)  # a second click: nothing more
    with schema_context(tree.c1.schema_name):
        assert not VoicemailMessage.objects.exists()
    assert commands() == [f"vm_fsdb_msg_delete default c1.example.net 7000 {UUID}",
                          "vm_fsdb_msg_purge default c1.example.net 7000"]
    assert AuditEvent.objects.filter(action="voicemail.message.delete", actor=admin).count() == 1


@pytest.mark.parametrize(("username", "refusal"), [("r1_readonly", PermissionDenied),
                                                   ("r1_activation", PermissionDenied),
                                                   ("c2_admin", NotInSubtree)])
def test_who_may_not_change_messages_changes_nothing(tree, box, username, refusal):
    actor = tree.user(username)
    message = leave(tree)
    for write in (lambda: do_mark_message_read(tree.c1, message, actor=actor),
                  lambda: do_mark_message_unread(tree.c1, message, actor=actor),
                  lambda: do_delete_message(tree.c1, message, actor=actor)):
        with pytest.raises(refusal):
            write()
    with schema_context(tree.c1.schema_name):
        assert list(VoicemailMessage.objects.values_list("uuid", "read_at")) == [(UUID, None)]
    assert commands() == []


def test_read_only_staff_read_and_another_tenant_does_not(tree, box):
    leave(tree)
    with schema_context(tree.c1.schema_name):
        assert [m.uuid for m in list_messages(tree.c1, box, actor=tree.user("r1_readonly"))] == [UUID]
    assert get_message(tree.c1, box, UUID, actor=tree.user("r1_readonly")).uuid == UUID
    with pytest.raises(NotInSubtree):
        list_messages(tree.c1, box, actor=tree.user("c2_admin"))
    with pytest.raises(NotInSubtree):
        get_message(tree.c1, box, UUID, actor=tree.user("c2_admin"))
    with pytest.raises(VoicemailMessage.DoesNotExist):
        get_message(tree.c1, box, "f" * 36, actor=tree.user("r1_readonly"))


def listed(uuid: str, *, created: datetime = LEFT, read_epoch: int = 0, folder: str = "inbox"):
    return ListedMessage(uuid=uuid, created_epoch=int(created.timestamp()), read_epoch=read_epoch,
                         folder=folder, file_path=f"/var/lib/fs/vm/c1.example.net/7000/msg_{uuid}.wav",
                         caller_id_name="Carol", caller_id_number="5550000", duration=4)


def test_sync_follows_the_nodes_listing_and_leaves_other_nodes_rows(tree, box, committed):
    now = LEFT + timedelta(days=1)
    kept, read_on_phone = leave(tree, uuid="k" * 36), leave(tree, uuid="r" * 36)
    deleted_on_phone = leave(tree, uuid="d" * 36)
    other_node = leave(tree, uuid="o" * 36, node="fs-b")
    just_left = leave(tree, uuid="j" * 36, created_at=now - LISTING_GRACE / 2)
    heard = []
    voicemail_left.connect(receiver := lambda sender, message, **kw: heard.append(message.uuid))
    try:
        with committed():
            result = sync_box_messages(tree.c1, box, [
                listed(kept.uuid), listed(read_on_phone.uuid, read_epoch=int(now.timestamp())),
                listed("n" * 36, created=now - timedelta(minutes=5)),  # left while we were away
                listed("x" * 36, created=now - timedelta(days=3)),  # old: shown, not announced
            ], node="fs-a", now=now)
    finally:
        voicemail_left.disconnect(receiver)
    assert (result.created, result.updated, result.removed) == (2, 1, 1)
    assert heard == ["n" * 36]
    with schema_context(tree.c1.schema_name):
        rows = dict(VoicemailMessage.objects.values_list("uuid", "read_at"))
    assert set(rows) == {kept.uuid, read_on_phone.uuid, other_node.uuid, just_left.uuid, "n" * 36, "x" * 36}
    assert deleted_on_phone.uuid not in rows
    assert rows[read_on_phone.uuid] is not None and rows[kept.uuid] is None


def test_a_listing_taken_before_a_delete_does_not_bring_the_message_back(tree, box):
    """A sync started by an earlier mwi-update listed the box just before a person deleted
    the message; applied after the delete it must not recreate the row (seen on the real
    switch), while another message in the same listing still appears."""
    message = leave(tree)
    stale_listing = [listed(message.uuid), listed("n" * 36)]
    do_delete_message(tree.c1, message, actor=tree.user("r1_admin"))
    result = sync_box_messages(tree.c1, box, stale_listing, node="fs-a", now=LEFT + timedelta(days=1))
    assert result.created == 1
    with schema_context(tree.c1.schema_name):
        assert list(VoicemailMessage.objects.values_list("uuid", flat=True)) == ["n" * 36]


def test_the_recording_is_read_from_the_shared_storage(tree, box, storage):
    message = leave(tree)
    recording = storage / "c1.example.net" / "7000" / f"msg_{UUID}.wav"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"RIFF" + b"\0" * 60)
    audio = message_audio(tree.c1, message, actor=tree.user("r1_readonly"))
    assert (audio.path, audio.size, audio.content_type) == (recording, 64, "audio/wav")
    assert audio.filename.startswith("voicemail-7000-") and audio.filename.endswith(".wav")
    with schema_context(tree.c1.schema_name):
        assert VoicemailMessage.objects.get().size == 64
    with pytest.raises(NotInSubtree):
        message_audio(tree.c1, message, actor=tree.user("c2_admin"))


def test_a_missing_recording_is_gone_not_an_error(tree, box, storage):
    message = leave(tree)
    with pytest.raises(RecordingUnavailable) as missing:
        message_audio(tree.c1, message, actor=None)
    assert missing.value.gone


def test_a_path_outside_the_storage_is_never_read(tree, box, storage):
    message = leave(tree, file_path="/var/lib/fs/vm/../../../../etc/passwd")
    with pytest.raises(RecordingUnavailable) as refused:
        message_audio(tree.c1, message, actor=None)
    assert refused.value.gone


def test_without_shared_storage_the_audio_is_unavailable(tree, box, settings):
    settings.VOICEMAIL_STORAGE_DIR = ""
    settings.VOICEMAIL_NODE_STORAGE_DIR = ""
    with pytest.raises(RecordingUnavailable) as unavailable:
        message_audio(tree.c1, leave(tree), actor=None)
    assert not unavailable.value.gone


def test_deleting_the_box_deletes_its_messages(tree, box):
    from pbx.actions import do_delete_voicemail_box

    leave(tree)
    do_delete_voicemail_box(tree.c1, box)
    with schema_context(tree.c1.schema_name):
        assert not VoicemailMessage.objects.exists()
    assert commands() == ["vm_delete 7000@c1.example.net"]


def test_an_end_user_reaches_only_their_own_extensions_box(tree, box):
    """My phone: the login bound to extension 1001 reads and changes 1001's messages;
    the shared box 7000 and a colleague's box are absent to it (404, not 403)."""
    from pbx.actions import do_create_extension
    from pbx.models import VoicemailBox
    from tenants.models import Role, User

    own_extension = do_create_extension(tree.c1, number="1001", name="Alice")
    do_create_extension(tree.c1, number="1002", name="Bob")
    alice = User.objects.create_user("alice", account=tree.c1, role=Role.END_USER,
                                     extension_pk=own_extension.pk)
    with schema_context(tree.c1.schema_name):
        own_box, colleague = VoicemailBox.objects.get(number="1001"), VoicemailBox.objects.get(number="1002")
    mine, theirs = leave(tree, "1001", uuid="m" * 36), leave(tree, "1002", uuid="t" * 36)
    shared = leave(tree)
    with schema_context(tree.c1.schema_name):
        assert [m.uuid for m in list_messages(tree.c1, own_box, actor=alice)] == [mine.uuid]
    do_mark_message_read(tree.c1, mine, actor=alice)
    do_delete_message(tree.c1, mine, actor=alice)
    for reach in (lambda: list_messages(tree.c1, colleague, actor=alice),
                  lambda: list_messages(tree.c1, box, actor=alice),
                  lambda: get_message(tree.c1, colleague, theirs.uuid, actor=alice),
                  lambda: message_audio(tree.c1, shared, actor=alice),
                  lambda: do_mark_message_read(tree.c1, theirs, actor=alice),
                  lambda: do_delete_message(tree.c1, shared, actor=alice)):
        with pytest.raises(VoicemailBox.DoesNotExist):
            reach()
    with schema_context(tree.c1.schema_name):
        assert sorted(VoicemailMessage.objects.values_list("uuid", "read_at")) == [
            (UUID, None), ("t" * 36, None)]
