"""A voicemail box's messages through the API (pbx/api/views/voicemail_messages.py): list
with filters, one message, its audio (whole, a range, gone), mark read/unread, delete,
sync from the nodes; and the attacker's view (other tenants, a sibling reseller, a
read-only key, another box's or tenant's ids in this path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from fsnodes.models import FreeswitchNode, NodeCommand
from pbx.actions import do_create_voicemail_box
from pbx.actions.voicemail_messages import record_left_message
from pbx.models import VoicemailMessage
from tenants.models import Account, AuditEvent
from tests.conftest import Tree
from tests.fakes.freeswitch_esl import CAPTURED_PASSWORD, FakeFreeswitch
from tests.switchboard.api.client import Api, accounts_url, body, key_for

LEFT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
NODE_ROOT = "/var/lib/fs/vm"


def uuid_of(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def make_box(account: Account, number: str = "7000"):
    return do_create_voicemail_box(account, number=number, name=f"Box {number}")[0]


def leave(account: Account, box_number: str, index: int, *, hours: int = 0):
    return record_left_message(
        account, box_number, uuid=uuid_of(index), node="fs-a",
        file_path=f"{NODE_ROOT}/{account.primary_domain_name}/{box_number}/msg_{uuid_of(index)}.wav",
        created_at=LEFT + timedelta(hours=hours), duration=5 + index,
        caller_id_name=f"Caller {index}", caller_id_number=f"555000{index}")


def url(account: Account | int, box_id: int, *rest) -> str:
    return accounts_url(account, "voicemail-boxes", box_id, "messages", *rest)


def stored(account: Account) -> list[tuple[str, bool]]:
    with schema_context(account.schema_name):
        return [(m.uuid, m.read_at is not None) for m in VoicemailMessage.objects.order_by("uuid")]


@pytest.fixture
def node(db):
    node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=9)
    node.set_esl_password("ClueCon")
    node.save()
    return node


@pytest.fixture
def storage(tmp_path, settings):
    settings.VOICEMAIL_STORAGE_DIR = NODE_ROOT
    settings.VOICEMAIL_LOCAL_STORAGE_DIR = str(tmp_path)
    return tmp_path


class TestVoicemailMessagesApi:
    query_counted_routes = ("voicemail-message-list",)
    covered_routes = ("voicemail-message-list", "voicemail-message-detail", "voicemail-message-audio",
                      "voicemail-message-mark-read", "voicemail-message-mark-unread",
                      "voicemail-message-sync")

    def test_list_filter_and_read_one_as_an_ancestors_admin(self, tree: Tree):
        box = make_box(tree.c1)
        for index in (1, 2, 3):
            leave(tree.c1, "7000", index, hours=index)
        api = Api(token=key_for(tree.user("r1_admin")))
        listed = body(api.send("get", url(tree.c1, box.pk)))
        assert listed["count"] == 3
        assert [m["uuid"] for m in listed["results"]] == [uuid_of(3), uuid_of(2), uuid_of(1)]
        first = listed["results"][-1]
        assert (first["caller_id_number"], first["duration"], first["is_read"], first["box"]) == (
            "5550001", 6, False, box.pk)
        assert first["audio_url"].endswith(url(tree.c1, box.pk, uuid_of(1), "audio"))
        since = (LEFT + timedelta(hours=2)).isoformat()
        recent = body(api.send("get", f"{url(tree.c1, box.pk)}?{urlencode({'since': since})}"))["results"]
        assert [m["uuid"] for m in recent] == [uuid_of(3), uuid_of(2)]
        assert body(api.send("get", f"{url(tree.c1, box.pk)}?q=Caller%202"))["count"] == 1
        assert body(api.send("get", f"{url(tree.c1, box.pk)}?read=true"))["count"] == 0
        one = api.send("get", url(tree.c1, box.pk, uuid_of(2)))
        assert one.status_code == 200 and body(one)["caller_id_name"] == "Caller 2"
        assert api.send("get", url(tree.c1, box.pk, uuid_of(9))).status_code == 404

    def test_mark_read_unread_and_delete_reach_the_nodes_and_the_audit(self, tree: Tree, node):
        box = make_box(tree.c1)
        leave(tree.c1, "7000", 1)
        admin = tree.user("c1_admin")
        api = Api(token=key_for(admin), REMOTE_ADDR="192.0.2.9")
        read = api.send("post", url(tree.c1, box.pk, uuid_of(1), "mark-read"))
        assert read.status_code == 200 and body(read)["is_read"] is True
        assert body(api.send("get", f"{url(tree.c1, box.pk)}?read=true"))["count"] == 1
        unread = api.send("post", url(tree.c1, box.pk, uuid_of(1), "mark-unread"))
        assert unread.status_code == 200 and body(unread)["is_read"] is False
        assert api.send("delete", url(tree.c1, box.pk, uuid_of(1))).status_code == 204
        assert stored(tree.c1) == []
        assert list(NodeCommand.objects.order_by("pk").values_list("command", flat=True)) == [
            f"vm_read 7000@c1.example.net read {uuid_of(1)}",
            f"vm_read 7000@c1.example.net unread {uuid_of(1)}",
            f"vm_fsdb_msg_delete default c1.example.net 7000 {uuid_of(1)}",
            "vm_fsdb_msg_purge default c1.example.net 7000"]
        audit = AuditEvent.objects.filter(action__startswith="voicemail.message.")
        assert sorted(audit.values_list("action", flat=True)) == [
            "voicemail.message.delete", "voicemail.message.read", "voicemail.message.unread"]
        assert set(audit.values_list("actor", "ip")) == {(admin.pk, "192.0.2.9")}

    def test_the_audio_whole_in_a_range_and_as_a_download(self, tree: Tree, storage):
        box = make_box(tree.c1)
        leave(tree.c1, "7000", 1)
        recording = storage / "c1.example.net" / "7000" / f"msg_{uuid_of(1)}.wav"
        recording.parent.mkdir(parents=True)
        data = b"RIFF" + bytes(range(256)) * 4
        recording.write_bytes(data)
        api = Api(token=key_for(tree.user("r1_readonly")))
        whole = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"))
        assert whole.status_code == 200 and whole["Content-Type"] == "audio/wav"
        assert b"".join(whole.streaming_content) == data
        assert whole["Accept-Ranges"] == "bytes" and whole["Content-Length"] == str(len(data))
        part = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"), HTTP_RANGE="bytes=4-19")
        assert part.status_code == 206 and part["Content-Range"] == f"bytes 4-19/{len(data)}"
        assert b"".join(part.streaming_content) == data[4:20]
        tail = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"), HTTP_RANGE="bytes=-10")
        assert b"".join(tail.streaming_content) == data[-10:]
        beyond = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"), HTTP_RANGE="bytes=99999-")
        assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"
        download = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio") + "?download=1")
        assert download["Content-Disposition"].startswith("attachment; filename=\"voicemail-7000-")
        wav_only = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"), HTTP_ACCEPT="audio/wav")
        assert wav_only.status_code == 200

    def test_a_recording_that_is_gone_is_410_and_unshared_storage_404(self, tree: Tree, storage, settings):
        box = make_box(tree.c1)
        leave(tree.c1, "7000", 1)
        api = Api(token=key_for(tree.user("c1_admin")))
        gone = api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio"))
        assert (gone.status_code, body(gone)["code"]) == (410, "gone")
        settings.VOICEMAIL_STORAGE_DIR = ""
        assert api.send("get", url(tree.c1, box.pk, uuid_of(1), "audio")).status_code == 404

    def test_a_read_only_key_reads_and_changes_nothing(self, tree: Tree, node):
        box = make_box(tree.c1)
        leave(tree.c1, "7000", 1)
        api = Api(token=key_for(tree.user("c1_admin"), read_only=True))
        assert api.send("get", url(tree.c1, box.pk)).status_code == 200
        for method, path in (("post", url(tree.c1, box.pk, uuid_of(1), "mark-read")),
                             ("post", url(tree.c1, box.pk, uuid_of(1), "mark-unread")),
                             ("delete", url(tree.c1, box.pk, uuid_of(1))),
                             ("post", url(tree.c1, box.pk, "sync"))):
            assert api.send(method, path).status_code == 403, (method, path)
        readonly_user = Api(token=key_for(tree.user("r1_readonly")))
        assert readonly_user.send("delete", url(tree.c1, box.pk, uuid_of(1))).status_code == 403
        assert stored(tree.c1) == [(uuid_of(1), False)]
        assert not NodeCommand.objects.exists()

    def test_other_tenants_and_other_boxes_ids_are_404_like_missing_ones(self, tree: Tree, node):
        c1_box = make_box(tree.c1)
        make_box(tree.c2, "7100")
        c2_box = make_box(tree.c2, "7101")  # pk 2: C1 has no box 2 (schemas number alike)
        assert c2_box.pk != c1_box.pk
        leave(tree.c1, "7000", 1)
        leave(tree.c2, "7101", 2)
        c1_admin = Api(token=key_for(tree.user("c1_admin")))
        missing = body(c1_admin.send("get", url(tree.c1, 987654)))
        # C2's box id and message uuid inside C1's path: absent, like missing ones.
        for method, path in (("get", url(tree.c1, c2_box.pk)),
                             ("get", url(tree.c1, c2_box.pk, uuid_of(2))),
                             ("get", url(tree.c1, c1_box.pk, uuid_of(2))),
                             ("get", url(tree.c1, c2_box.pk, uuid_of(2), "audio")),
                             ("post", url(tree.c1, c1_box.pk, uuid_of(2), "mark-read")),
                             ("delete", url(tree.c1, c1_box.pk, uuid_of(2))),
                             ("delete", url(tree.c1, c2_box.pk, uuid_of(2)))):
            refused = c1_admin.send(method, path)
            assert (refused.status_code, body(refused)) == (404, missing), (method, path)
        for user in ("c2_admin", "r2_admin", "c1a_admin"):
            outsider = Api(token=key_for(tree.user(user)))
            for method, path in (("get", url(tree.c1, c1_box.pk)),
                                 ("get", url(tree.c1, c1_box.pk, uuid_of(1), "audio")),
                                 ("post", url(tree.c1, c1_box.pk, uuid_of(1), "mark-read")),
                                 ("delete", url(tree.c1, c1_box.pk, uuid_of(1)))):
                assert outsider.send(method, path).status_code == 404, (user, method, path)
        assert stored(tree.c1) == [(uuid_of(1), False)] and stored(tree.c2) == [(uuid_of(2), False)]
        assert not NodeCommand.objects.exists()

    def test_sync_lists_the_box_on_the_nodes(self, tree: Tree):
        box = make_box(tree.c1)
        stamp = int((datetime.now(tz=UTC) - timedelta(days=2)).timestamp())
        with FakeFreeswitch() as fake:
            node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=fake.port)
            node.set_esl_password(CAPTURED_PASSWORD)
            node.save()
            fake.api_replies["vm_list 7000@c1.example.net/default"] = (
                f"{stamp}:0:7000:c1.example.net:inbox:{NODE_ROOT}/c1.example.net/7000/msg_{uuid_of(5)}.wav:"
                f"{uuid_of(5)}:Dana:5550100:12\n")
            synced = Api(token=key_for(tree.user("c1_admin"))).send("post", url(tree.c1, box.pk, "sync"))
        assert (synced.status_code, body(synced)) == (200, {"nodes": 1})
        assert stored(tree.c1) == [(uuid_of(5), False)]

    def test_a_list_page_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        box = make_box(tree.c1)
        for index in range(1, 5):
            leave(tree.c1, "7000", index)
        api = Api(token=key_for(tree.user("c1_admin")))
        api.send("get", url(tree.c1, box.pk))  # the key's first use also records it
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"{url(tree.c1, box.pk)}?page_size={size}")
            assert page.status_code == 200 and len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts[0] == counts[1], counts
