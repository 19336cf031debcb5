"""Prompts and hold music through the API (pbx/api/views/media.py): multipart uploads
answered at once as pending, then ready or failed with the converter's error; a used
object's delete is a 409 naming its users; the attacker's view of every route."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django_tenants.utils import schema_context

from pbx.actions import do_add_moh_track, do_create_moh_group, do_upload_prompt
from pbx.models import Ivr, MohGroup, MohTrack, Prompt, RingGroup
from switchboard.celery import app as celery_app
from tenants.models import Account, AuditEvent, PhoneNumber
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    """The conversion runs in the committing thread, as a worker would run it."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def wav(name: str = "hello.wav", seconds: float = 0.5, rate: int = 8000) -> SimpleUploadedFile:
    """A mono 16-bit WAV of a 440 Hz tone."""
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                      for n in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return SimpleUploadedFile(name, out.getvalue(), content_type="audio/wav")


def broken_wav() -> SimpleUploadedFile:
    """Starts like a WAV (so the upload is accepted) but holds no sound the converter reads."""
    return SimpleUploadedFile("broken.wav", b"RIFF\x24\x00\x00\x00WAVE" + b"\x07" * 200)


def upload(api: Api, url: str, data: dict[str, Any], **extra: Any) -> HttpResponse:
    return api.post(url, data, **extra)  # multipart, as a browser's form sends a file


class TestPromptsApi(ObjectApiTests):
    basename = "prompt"
    path = "prompts"
    model = Prompt
    audit_name = "prompt"
    audit_verbs = {"create": "upload", "update": "rename"}
    create_data = {"name": "Welcome"}
    update_data = {"name": "Welcome (new)"}
    invalid_data = {"upload": SimpleUploadedFile("notes.txt", b"hello")}
    invalid_field = "upload"
    list_queries = 9

    def make(self, account: Account, index: int) -> Prompt:
        return do_upload_prompt(account, name=f"Prompt {index}", upload=wav())

    def payload(self, account: Account) -> dict[str, Any]:
        return {**self.create_data, "upload": wav()}

    def post(self, api: Api, url: str, data: dict[str, Any], **extra: Any) -> HttpResponse:
        return upload(api, url, data, **extra)

    def writes(self, account: Account, pk: int):
        # Refused before the body is read: the JSON of the create's fields is enough.
        yield "post", self.list_url(account), self.create_data
        yield "patch", self.detail_url(account, pk), self.update_data
        yield "delete", self.detail_url(account, pk), None

    def test_an_upload_is_pending_then_ready_with_its_length(self, tree: Tree, committed):
        api = Api(token=key_for(tree.user("c1_admin")))
        with committed():
            created = upload(api, self.list_url(tree.c1), {"name": "Hello", "upload": wav(seconds=1.5)})
        assert created.status_code == 201, body(created)
        shown = body(created)
        assert (shown["status"], shown["error"], shown["original_name"]) == ("pending", "", "hello.wav")
        read = body(api.send("get", self.detail_url(tree.c1, shown["id"])))
        assert (read["status"], read["error"], read["duration_ms"]) == ("ready", "", 1500)
        listed = body(api.send("get", f"{self.list_url(tree.c1)}?status=ready"))["results"]
        assert [item["id"] for item in listed] == [shown["id"]]

    def test_a_file_the_converter_cannot_read_is_failed_with_the_reason(self, tree: Tree, committed):
        api = Api(token=key_for(tree.user("c1_admin")))
        with committed():
            created = upload(api, self.list_url(tree.c1), {"name": "Broken", "upload": broken_wav()})
        assert created.status_code == 201, body(created)
        read = body(api.send("get", self.detail_url(tree.c1, body(created)["id"])))
        assert read["status"] == "failed" and read["error"], read

    def test_a_missing_or_wrong_file_and_a_json_body_are_400(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        missing = upload(api, self.list_url(tree.c1), {"name": "Hello"})
        assert missing.status_code == 400 and "upload" in body(missing)
        as_json = api.send("post", self.list_url(tree.c1), {"name": "Hello"})
        assert as_json.status_code == 415
        empty = upload(api, self.list_url(tree.c1),
                       {"name": "Hello", "upload": SimpleUploadedFile("a.wav", b"")})
        assert empty.status_code == 400 and body(empty)["upload"] == ["The file is empty."]
        with schema_context(tree.c1.schema_name):
            assert not Prompt.objects.exists()

    def test_a_role_that_is_not_admin_is_refused_by_the_actions(self, tree: Tree):
        # Not read-only, so the checkpoint lets it through: the action's role check refuses.
        prompt = self.make(tree.c1, 1)
        api = Api(token=key_for(tree.user("r1_activation")))
        assert upload(api, self.list_url(tree.c1), self.payload(tree.c1)).status_code == 403
        assert api.send("patch", self.detail_url(tree.c1, prompt.pk), self.update_data).status_code == 403
        assert api.send("delete", self.detail_url(tree.c1, prompt.pk)).status_code == 403
        group_url = accounts_url(tree.c1, "hold-music-groups")
        assert api.send("post", group_url, {"name": "Jazz"}).status_code == 403
        with schema_context(tree.c1.schema_name):
            assert list(Prompt.objects.values_list("name", flat=True)) == ["Prompt 1"]
            assert not MohGroup.objects.exists()

    def test_a_prompt_in_use_is_409_naming_its_users(self, tree: Tree):
        prompt = self.make(tree.c1, 1)
        with schema_context(tree.c1.schema_name):
            Ivr.objects.create(name="Main menu", greeting=prompt)
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "delete", self.detail_url(tree.c1, prompt.pk))
        assert refused.status_code == 409, body(refused)
        assert body(refused)["code"] == "in_use"
        assert body(refused)["used_by"] == ["Auto attendant (IVR) Main menu (greeting)"]
        with schema_context(tree.c1.schema_name):
            assert Prompt.objects.filter(pk=prompt.pk).exists()


class TestHoldMusicGroupsApi(ObjectApiTests):
    basename = "moh-group"
    extra_routes = ("moh-group-tracks", "moh-group-track", "moh-group-reorder-tracks")
    path = "hold-music-groups"
    model = MohGroup
    audit_name = "moh_group"
    create_data = {"name": "Jazz", "shuffle": False}
    update_data = {"name": "Smooth jazz", "shuffle": True}
    invalid_data = {"name": "x" * 51}
    invalid_field = "name"
    list_queries = 10

    def make(self, account: Account, index: int) -> MohGroup:
        group = do_create_moh_group(account, name=f"Group {index}")
        do_add_moh_track(account, group, upload=wav(f"track{index}.wav"))
        return group

    def tracks(self, account: Account) -> list[tuple[int, int, str]]:
        with schema_context(account.schema_name):
            return list(MohTrack.objects.order_by("pk").values_list("group_id", "position", "name"))

    def test_tracks_are_uploaded_listed_reordered_and_removed(self, tree: Tree, committed):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        group = do_create_moh_group(tree.c1, name="Jazz", shuffle=False)
        url = accounts_url(tree.c1, self.path, group.pk, "tracks")
        with committed():
            first = upload(api, url, {"upload": wav("blue in green.wav")})
            second = upload(api, url, {"upload": wav("so what.wav"), "name": "So What"})
        assert (first.status_code, second.status_code) == (201, 201), body(first)
        assert (body(first)["name"], body(first)["status"], body(first)["position"]) == (
            "blue in green", "pending", 0)
        event = AuditEvent.objects.filter(action="moh_track.add").latest("id")
        assert (event.actor_id, event.ip) == (admin.pk, "127.0.0.1")
        listed = body(api.send("get", url))
        assert [(t["name"], t["status"]) for t in listed] == [("blue in green", "ready"),
                                                              ("So What", "ready")]
        ids = [t["id"] for t in listed]
        assert body(api.send("get", accounts_url(tree.c1, self.path, group.pk)))["tracks"] == listed

        reordered = api.send("post", accounts_url(tree.c1, self.path, group.pk, "reorder-tracks"),
                             {"track_ids": ids[::-1]})
        assert reordered.status_code == 200, body(reordered)
        assert [t["name"] for t in body(reordered)] == ["So What", "blue in green"]
        partial = api.send("post", accounts_url(tree.c1, self.path, group.pk, "reorder-tracks"),
                           {"track_ids": ids[:1]})
        assert partial.status_code == 400 and "track_ids" in body(partial)

        one = accounts_url(tree.c1, self.path, group.pk, "tracks", ids[0])
        assert body(api.send("get", one))["name"] == "blue in green"
        assert api.send("delete", one).status_code == 204
        assert api.send("get", one).status_code == 404
        assert [name for _, _, name in self.tracks(tree.c1)] == ["So What"]

    def test_a_track_of_another_group_or_tenant_is_404(self, tree: Tree):
        mine, other = self.make(tree.c1, 1), self.make(tree.c1, 2)
        theirs = self.make(tree.c2, 1)
        with schema_context(tree.c1.schema_name):
            other_track = other.tracks.get().pk
        with schema_context(tree.c2.schema_name):
            their_track = theirs.tracks.get().pk
        before = (self.tracks(tree.c1), self.tracks(tree.c2))
        api = Api(token=key_for(tree.user("c1_admin")))
        for track in (other_track, their_track + 100):
            one = accounts_url(tree.c1, self.path, mine.pk, "tracks", track)
            assert api.send("get", one).status_code == 404
            assert api.send("delete", one).status_code == 404
        outsider = Api(token=key_for(tree.user("c2_admin")))
        with schema_context(tree.c1.schema_name):
            my_track = mine.tracks.get().pk
        for method, url, data in [
            ("get", accounts_url(tree.c1, self.path, mine.pk, "tracks"), None),
            ("post", accounts_url(tree.c1, self.path, mine.pk, "tracks"), {}),
            ("get", accounts_url(tree.c1, self.path, mine.pk, "tracks", my_track), None),
            ("delete", accounts_url(tree.c1, self.path, mine.pk, "tracks", my_track), None),
            ("post", accounts_url(tree.c1, self.path, mine.pk, "reorder-tracks"), {"track_ids": [my_track]}),
        ]:
            assert outsider.send(method, url, data).status_code == 404, (method, url)
        assert (self.tracks(tree.c1), self.tracks(tree.c2)) == before

    def test_track_writes_are_refused_to_read_only_keys_and_users(self, tree: Tree):
        group = self.make(tree.c1, 1)
        with schema_context(tree.c1.schema_name):
            track = group.tracks.get().pk
        before = self.tracks(tree.c1)
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            api = Api(token=token)
            base = accounts_url(tree.c1, self.path, group.pk)
            assert upload(api, base + "tracks/", {"upload": wav()}).status_code == 403
            assert api.send("delete", base + f"tracks/{track}/").status_code == 403
            assert api.send("post", base + "reorder-tracks/", {"track_ids": [track]}).status_code == 403
            assert api.send("get", base + "tracks/").status_code == 200
        assert self.tracks(tree.c1) == before

    def test_a_group_in_use_is_409_naming_its_users_and_numbers(self, tree: Tree):
        group = self.make(tree.c1, 1)
        with schema_context(tree.c1.schema_name):
            RingGroup.objects.create(number="2000", name="Sales", moh_group=group)
        PhoneNumber.objects.create(e164="+14165550100", account=tree.c1, moh_group_id=group.pk)
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "delete", accounts_url(tree.c1, self.path, group.pk))
        assert refused.status_code == 409, body(refused)
        assert body(refused)["used_by"] == ["Ring group 2000 Sales (moh group)", "Phone number +14165550100"]
        with schema_context(tree.c1.schema_name):
            assert MohGroup.objects.filter(pk=group.pk).exists()
