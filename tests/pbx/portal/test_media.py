"""Prompts and hold music in the portal: an upload starts converting and its state is
polled until ready, then played from the portal's own audio view; a file that is not
audio is refused on its field; deleting a recording or group in use is refused with
its users listed, as the action words it; tracks put in order with the arrows or by
drag (the refusal shown in the section); both lists searched."""

from __future__ import annotations

import io
import wave

from django_tenants.utils import schema_context

from pbx.actions.ivr import do_update_ivr
from pbx.actions.media import do_create_moh_group, do_upload_prompt
from pbx.actions.queues import do_update_queue
from pbx.models import MohGroup, MohTrack, Prompt
from tenants.models import AuditEvent
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


def _track_names(world: World) -> list[str]:
    with schema_context(world.account.schema_name):
        return list(MohTrack.objects.filter(group=world.moh).values_list("name", flat=True))


def test_tracks_move_with_the_arrows_and_by_drag_through_the_reorder_action(world: World):
    browser = world.browser("admin")
    for name in ("So What", "Blue in Green"):
        browser.post(f"/hold-music/{world.moh.pk}/tracks/add/", {"upload": wav(f"{name}.wav")})
    url = f"/hold-music/{world.moh.pk}/tracks/"
    page = browser.get(f"/hold-music/{world.moh.pk}/").content.decode()
    # The ring groups' list: the same partial and script.
    assert f'data-reorder-url="{url}"' in page and 'draggable="true" data-position="2"' in page
    assert "portal/reorder" in page and 'aria-label="Move track So What up"' in page
    assert browser.post(url, {"operation": "up", "position": "2"}, REMOTE_ADDR="192.0.2.7").status_code == 302
    assert _track_names(world) == ["take five", "Blue in Green", "So What"]
    event = AuditEvent.objects.filter(action="moh_group.reorder").latest("pk")
    assert (event.actor.username, event.ip) == ("c1_admin", "192.0.2.7")
    # A drag (htmx) gets the tracks' section back, in the new order.
    section = browser.post(url, {"operation": "order", "order": "2,0,1"}, HTTP_HX_REQUEST="true")
    assert section.status_code == 200
    html = section.content.decode()
    assert html.lstrip().startswith('<section class="card" id="tracks-section"') and "<html" not in html
    assert html.index("So What") < html.index("take five") < html.index("Blue in Green")
    assert _track_names(world) == ["So What", "take five", "Blue in Green"]
    page = world.browser("read_only").get(f"/hold-music/{world.moh.pk}/").content.decode()
    assert "draggable" not in page and "portal/reorder" not in page and "Move track" not in page


def test_a_refused_drag_order_comes_back_with_the_actions_reason(world: World):
    """The order the action refuses (a track named twice, or one that is not there) is
    answered with the section: the saved order and the action's words, status 400, which
    reorder.js swaps in instead of reloading."""
    browser = world.browser("admin")
    browser.post(f"/hold-music/{world.moh.pk}/tracks/add/", {"upload": wav("So What.wav")})
    url = f"/hold-music/{world.moh.pk}/tracks/"
    for order in ("0,0", "1", "0,1,2", "1,x"):
        refused = browser.post(url, {"operation": "order", "order": order}, HTTP_HX_REQUEST="true")
        assert refused.status_code == 400, order
        html = refused.content.decode()
        assert html.lstrip().startswith('<section class="card" id="tracks-section"')
        assert 'role="alert"' in html and "List every track of this group exactly once." in html
        assert html.index("take five") < html.index("So What")
    assert _track_names(world) == ["take five", "So What"]
    # Without htmx: the whole page, the reason above the list.
    page = browser.post(url, {"operation": "order", "order": "0,0"})
    assert page.status_code == 400 and "List every track of this group exactly once." in text(page)
    assert "<html" in text(page)
    assert browser.post(url, {"operation": "down", "position": "5"}).status_code == 400
    assert _track_names(world) == ["take five", "So What"]


def test_the_prompt_and_hold_music_lists_search_with_the_apis_filtersets(world: World):
    browser = world.browser("read_only")
    do_create_moh_group(world.account, name="Classical")
    page = browser.get("/hold-music/?q=jaz").content.decode()
    assert 'name="q"' in page and "Jazz" in page and "Classical" not in page
    table = browser.get("/hold-music/?q=class", HTTP_HX_REQUEST="true").content.decode()
    assert "Classical" in table and "Jazz" not in table and "<html" not in table
    assert "Classical" in browser.get("/hold-music/?shuffle=true").content.decode()
    do_upload_prompt(world.account, name="Closed", upload=wav("closed.wav"))
    page = browser.get("/prompts/?q=welc").content.decode()
    assert 'name="q"' in page and "Welcome" in page and "Closed" not in page
    # The uploaded file's name is searched too, and the state is a filter.
    assert "Closed" in browser.get("/prompts/?q=closed.wav").content.decode()
    assert "Closed" in browser.get("/prompts/?status=pending").content.decode()
    assert "Closed" not in browser.get("/prompts/?status=ready").content.decode()


def test_the_hold_music_page_gives_every_field_an_id_of_its_own(world: World):
    """The group's form and the track form share the page and both have a "name": each
    label must point at its own field (found from a fresh clone: both were id_name)."""
    import re

    page = world.browser("admin").get(f"/hold-music/{world.moh.pk}/").content.decode()
    ids = re.findall(r'\bid="(id_[^"]+)"', page)
    assert ids and len(ids) == len(set(ids)), sorted(ids)
    assert 'for="id_track_name"' in page and 'id="id_track_name"' in page
