"""A voicemail box's messages in the admin portal (pbx/portal/views/voicemail_messages.py)
beyond the page-by-role matrix of test_pages.py: the htmx row swaps, the player's byte
ranges, a recording that is gone, another box's message, and the refresh from the nodes."""

from __future__ import annotations

import time
from pathlib import Path

from django.urls import reverse
from django_tenants.utils import schema_context

from fsnodes.models import FreeswitchNode
from pbx.actions import do_create_voicemail_box
from pbx.models import VoicemailMessage
from tests.fakes.freeswitch_esl import CAPTURED_PASSWORD, FakeFreeswitch
from tests.pbx.portal.conftest import World


def url(name: str, world: World, **kwargs) -> str:
    return reverse(f"portal:{name}", kwargs={"pk": world.box.pk, **kwargs})


def test_the_page_plays_each_message_and_links_it_from_the_box(world: World):
    admin = world.browser("admin")
    page = admin.get(url("voicemail-messages", world)).content.decode()
    audio = url("voicemail-message-audio", world, uuid=world.message.uuid)
    assert f'<audio controls preload="none" src="{audio}"' in page
    assert f'href="{audio}?download=1"' in page and "Dana Dunn" in page and ">New<" in page
    assert url("voicemail-messages", world) in admin.get(url("voicemail-edit", world)).content.decode()
    unread_only = admin.get(url("voicemail-messages", world) + "?read=true", HTTP_HX_REQUEST="true")
    assert "No messages" in unread_only.content.decode() and "<html" not in unread_only.content.decode()


def test_mark_read_and_delete_swap_the_row_with_htmx(world: World):
    admin = world.browser("admin")
    uuid = world.message.uuid
    row = admin.post(url("voicemail-message-read", world, uuid=uuid), {"read": "1"}, HTTP_HX_REQUEST="true")
    html = row.content.decode()
    assert row.status_code == 200 and "<html" not in html
    assert f'id="message-{uuid}"' in html and "Mark unread" in html and ">New<" not in html
    back = admin.post(url("voicemail-message-read", world, uuid=uuid), {"read": "0"}, HTTP_HX_REQUEST="true")
    assert "Mark read" in back.content.decode()
    gone = admin.post(url("voicemail-message-delete", world, uuid=uuid), {}, HTTP_HX_REQUEST="true")
    assert (gone.status_code, gone.content) == (200, b"")
    with schema_context(world.account.schema_name):
        assert not VoicemailMessage.objects.exists()


def test_the_player_gets_byte_ranges_and_a_gone_recording_is_410(world: World, settings):
    admin = world.browser("read_only")
    audio = url("voicemail-message-audio", world, uuid=world.message.uuid)
    part = admin.get(audio, HTTP_RANGE="bytes=0-3")
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"RIFF"
    storage = settings.VOICEMAIL_STORAGE_DIR
    settings.VOICEMAIL_STORAGE_DIR = ""
    assert admin.get(audio).status_code == 404  # this server does not share the storage
    settings.VOICEMAIL_STORAGE_DIR = storage
    with schema_context(world.account.schema_name):
        Path(VoicemailMessage.objects.get().file_path).unlink()
    gone = admin.get(audio)
    assert gone.status_code == 410 and "no longer" in gone.content.decode()


def test_another_boxs_message_is_404_in_this_boxs_path(world: World, settings):
    other, _ = do_create_voicemail_box(world.account, number="5001", name="Other")
    with schema_context(world.account.schema_name):
        VoicemailMessage.objects.filter(pk=world.message.pk).update(box=other)
    admin = world.browser("admin")
    for name in ("voicemail-message-audio", "voicemail-message-read", "voicemail-message-delete"):
        assert admin.get(url(name, world, uuid=world.message.uuid)).status_code == 404, name
    assert admin.post(url("voicemail-message-delete", world, uuid=world.message.uuid)).status_code == 404
    with schema_context(world.account.schema_name):
        assert VoicemailMessage.objects.filter(box=other).count() == 1


def test_refresh_lists_the_box_on_the_nodes(world: World, settings):
    stamp = int(time.time()) - 86400
    with schema_context(world.account.schema_name):
        VoicemailMessage.objects.all().delete()
    with FakeFreeswitch() as fake:
        node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=fake.port)
        node.set_esl_password(CAPTURED_PASSWORD)
        node.save()
        fake.api_replies["vm_list 5000@c1.example.net/default"] = (
            f"{stamp}:0:5000:c1.example.net:inbox:{settings.VOICEMAIL_STORAGE_DIR}/c1.example.net/5000/"
            f"msg_{world.message.uuid}.wav:{world.message.uuid}:Eve:+14165550100:3\n")
        answer = world.browser("admin").post(url("voicemail-message-sync", world))
    assert answer.status_code == 302 and answer["Location"] == url("voicemail-messages", world)
    with schema_context(world.account.schema_name):
        assert list(VoicemailMessage.objects.values_list("caller_id_name", flat=True)) == ["Eve"]
    assert world.browser("read_only").post(url("voicemail-message-sync", world)).status_code == 403
