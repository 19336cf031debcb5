"""Prompts and hold music in the portal: an upload starts converting and its state is
polled until ready, then played from the portal's own audio view; a file that is not
audio is refused on its field; deleting a recording or group in use is refused with
its users listed, as the action words it."""

from __future__ import annotations

import io
import wave

from django_tenants.utils import schema_context

from pbx.actions.ivr import do_update_ivr
from pbx.actions.queues import do_update_queue
from pbx.models import MohGroup, MohTrack, Prompt
from tests.pbx.portal.conftest import World, converted, wav
from tests.pbx.portal.test_pages import text


def test_an_upload_converts_while_the_page_polls_then_plays(world: World):
    browser = world.browser("admin")
    response = browser.post("/prompts/add/", {"name": "After hours", "upload": wav("after.wav", 1.0)})
    assert response.status_code == 302
    with schema_context(world.account.schema_name):
        prompt = Prompt.objects.get(name="After hours")
    assert response["Location"] == f"/prompts/{prompt.pk}/"
    page = browser.get(f"/prompts/{prompt.pk}/").content.decode()
    assert "Converting…" in page and f'hx-get="/prompts/{prompt.pk}/state/" hx-trigger="every 2s"' in page
    assert browser.get(f"/prompts/{prompt.pk}/audio/").status_code == 404  # nothing to play yet
    converted(world.account, prompt)
    fragment = browser.get(f"/prompts/{prompt.pk}/state/").content.decode()
    assert "hx-trigger" not in fragment  # polling stops
    assert f'<audio controls preload="none" src="/prompts/{prompt.pk}/audio/"' in fragment
    response = world.browser("read_only").get(f"/prompts/{prompt.pk}/audio/")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(b"".join(response.streaming_content))) as played:
        assert (played.getnchannels(), played.getframerate()) == (1, 16000)
        assert abs(played.getnframes() - 16000) <= 320


def test_a_file_that_is_not_audio_is_refused_on_its_field(world: World):
    upload = wav("notes.wav")
    upload.file = io.BytesIO(b"these are my notes, not a recording")
    response = world.browser("admin").post("/prompts/add/", {"name": "Notes", "upload": upload})
    assert response.status_code == 400
    assert "This file is not a WAV file" in " ".join(response.context["form"].errors["upload"])
    with schema_context(world.account.schema_name):
        assert not Prompt.objects.filter(name="Notes").exists()


def test_a_prompt_in_use_is_not_deleted_and_its_users_are_listed(world: World):
    do_update_ivr(world.account, world.ivr, greeting=world.prompt)
    response = world.browser("admin").post(f"/prompts/{world.prompt.pk}/delete/")
    assert response.status_code == 409
    assert "Prompt Welcome is still used by: Auto attendant (IVR) 4000 Main menu (greeting)" in text(response)
    with schema_context(world.account.schema_name):
        assert Prompt.objects.filter(pk=world.prompt.pk).exists()


def test_hold_music_in_use_is_not_deleted_and_its_users_are_listed(world: World):
    do_update_queue(world.account, world.queue, moh_group=world.moh)
    response = world.browser("admin").post(f"/hold-music/{world.moh.pk}/delete/")
    assert response.status_code == 409
    assert "Hold music Jazz is still used by: Call queue 6000 Help desk" in text(response)
    with schema_context(world.account.schema_name):
        assert MohGroup.objects.filter(pk=world.moh.pk).exists()


def test_tracks_are_added_played_and_removed(world: World):
    browser = world.browser("admin")
    response = browser.post(f"/hold-music/{world.moh.pk}/tracks/add/", {"upload": wav("So What.wav")})
    assert response.status_code == 302
    with schema_context(world.account.schema_name):
        track = MohTrack.objects.get(group=world.moh, name="So What")
    page = browser.get(f"/hold-music/{world.moh.pk}/").content.decode()
    tracks = page.split('id="tracks-heading"')[1]
    assert tracks.index("take five") < tracks.index("So What")  # added last
    assert f'hx-get="/hold-music-tracks/{track.pk}/state/"' in page
    assert browser.get(f"/hold-music-tracks/{world.track.pk}/audio/").status_code == 200
    assert browser.post(f"/hold-music-tracks/{track.pk}/delete/").status_code == 302
    with schema_context(world.account.schema_name):
        assert list(MohTrack.objects.filter(group=world.moh).values_list("name", flat=True)) == ["take five"]
