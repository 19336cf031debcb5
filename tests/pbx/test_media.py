"""Prompts and hold music: uploads checked, stored under the tenant's folder, converted
(soundfile and soxr, no system program) into mono 16-bit WAV at 8 and 16 kHz, quotas,
deletion refused while in use, the folders mod_local_stream plays, and one tenant never
reaching another's files. Every input sound is made here with numpy and soundfile."""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from fsnodes.models import FreeswitchNode, NodeCommand
from pbx import media
from pbx.actions import (
    do_add_moh_track,
    do_create_extension,
    do_create_moh_group,
    do_delete_moh_group,
    do_delete_prompt,
    do_remove_moh_track,
    do_rename_prompt,
    do_reorder_moh_tracks,
    do_update_moh_group,
    do_upload_prompt,
)
from pbx.models import (
    ConferenceRoom,
    FollowMe,
    Ivr,
    MediaStatus,
    MohTrack,
    Prompt,
    RingGroup,
    Schedule,
    VoicemailBox,
)
from switchboard.celery import app as celery_app
from tenants.models import AuditEvent, PhoneNumber
from tests.conftest import Browser

FS_BASE = "/srv/switchboard-media"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FREESWITCH_MEDIA_BASE = FS_BASE
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    """The conversion task runs in the committing thread, as a worker would run it."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


# How each extension's test input is written: libsndfile's container and default encoding.
WRITERS = {".wav": ("WAV", "PCM_16"), ".mp3": ("MP3", "MPEG_LAYER_III"), ".ogg": ("OGG", "VORBIS"),
           ".flac": ("FLAC", "PCM_16")}


def tone(seconds: float, rate: int = 44100, channels: int = 2) -> np.ndarray:
    """Frames x channels: 440 Hz at half scale on the first channel, 660 Hz at a quarter on
    the others. The channels differ, so a downmix that summed them, or kept only one,
    would show in the loudness."""
    t = np.arange(round(seconds * rate)) / rate
    columns = [0.5 * np.sin(2 * np.pi * 440 * t)]
    columns += [0.25 * np.sin(2 * np.pi * 660 * t)] * (channels - 1)
    return np.stack(columns, axis=1)


def write_sound(path: Path, samples: np.ndarray, rate: int, subtype: str | None = None) -> bytes:
    container, default_subtype = WRITERS[path.suffix]
    soundfile.write(path, samples, rate, format=container, subtype=subtype or default_subtype)
    return path.read_bytes()


def sound(tmp_path: Path, name: str, seconds: float = 1.5) -> SimpleUploadedFile:
    """A stereo 44.1 kHz tone in the format the name's extension says."""
    return SimpleUploadedFile(name, write_sound(tmp_path / name, tone(seconds), 44100))


def rms_db(samples: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))))


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def in_schema(account, obj):
    with schema_context(account.schema_name):
        obj.refresh_from_db()
    return obj


def assert_converted(root: Path, obj, seconds: float) -> None:
    assert obj.status == MediaStatus.READY, obj.error
    assert abs(obj.duration_ms - seconds * 1000) <= 20  # one 20 ms telephony frame
    for rate in media.RATES:
        with wave.open(str(root / media.converted_name(obj, rate))) as converted:
            assert (converted.getnchannels(), converted.getsampwidth(),
                    converted.getframerate()) == (1, 2, rate)


# --- converting ------------------------------------------------------------------------


def test_a_wav_prompt_becomes_mono_16_bit_at_8_and_16_khz(tree, committed, media_root, tmp_path):
    upload = sound(tmp_path, "Welcome Message.wav")
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Welcome", upload=upload,
                                  actor=tree.user("c1_admin"))
    prompt = in_schema(tree.c1, prompt)
    assert_converted(media_root, prompt, 1.5)
    assert prompt.original_name == "Welcome Message.wav"
    assert prompt.size_bytes == upload.size
    stem = prompt.upload.name.removesuffix(".wav")
    assert prompt.upload.name.startswith(f"{tree.c1.schema_name}/prompt/")
    assert (media_root / prompt.upload.name).read_bytes() == (tmp_path / "Welcome Message.wav").read_bytes()
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == sorted(
        [prompt.upload.name, f"{stem}.16000.wav", f"{stem}.8000.wav"])
    with schema_context(tree.c1.schema_name):
        assert media.playable_path(prompt, 8000) == f"{FS_BASE}/{stem}.8000.wav"
        assert media.playable_path(prompt, 16000) == f"{FS_BASE}/{stem}.16000.wav"
        assert media.playable_path(prompt, 48000) == f"{FS_BASE}/{stem}.16000.wav"
    event = AuditEvent.objects.get(account=tree.c1, action="prompt.upload")
    assert event.details == {"name": "Welcome", "file": "Welcome Message.wav", "bytes": upload.size}


@pytest.mark.parametrize("id3", [False, True])
def test_an_mp3_track_is_converted(tree, committed, media_root, tmp_path, id3):
    upload = sound(tmp_path, "song.mp3", seconds=2)
    if id3:  # an empty ID3v2.4 tag before the first frame, as tagging tools write
        upload = SimpleUploadedFile("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + upload.read())
    with committed():
        group = do_create_moh_group(tree.c1, name="Jazz")
        track = do_add_moh_track(tree.c1, group, upload=upload)
    track = in_schema(tree.c1, track)
    assert track.name == "song"
    assert_converted(media_root, track, 2)


def test_the_soundfile_wheel_reads_and_writes_every_accepted_format():
    """The wheel's libsndfile (1.1 or later: MP3) is what makes system sox unneeded, and
    what these tests write their inputs with."""
    assert set(soundfile.available_formats()) >= {"WAV", "WAVEX", "MP3", "OGG", "FLAC"}
    assert {"VORBIS", "OPUS"} <= set(soundfile.available_subtypes("OGG"))
    assert "MPEG_LAYER_III" in soundfile.available_subtypes("MP3")
    assert set(media.EXTENSIONS) == set(WRITERS)


# The inputs, one per format: file name, rate, channels and libsndfile encoding.
FORMATS = {
    "wav-44.1k-stereo": ("in.wav", 44100, 2, "PCM_16"),
    "wav-8k-mono": ("in.wav", 8000, 1, "PCM_16"),
    "wav-24-bit": ("in.wav", 48000, 2, "PCM_24"),
    "wav-float": ("in.wav", 22050, 2, "FLOAT"),
    "wav-5-channels": ("in.wav", 32000, 5, "PCM_16"),
    "mp3": ("in.mp3", 44100, 2, "MPEG_LAYER_III"),
    "ogg-vorbis": ("in.ogg", 44100, 2, "VORBIS"),
    "ogg-opus": ("in.ogg", 48000, 2, "OPUS"),
    "flac": ("in.flac", 44100, 2, "PCM_16"),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_input_format_becomes_mono_16_bit_copies_as_loud_and_as_long(
        tree, committed, media_root, tmp_path, kind):
    name, rate, channels, subtype = FORMATS[kind]
    samples = tone(1.5, rate, channels)
    upload = SimpleUploadedFile(name, write_sound(tmp_path / name, samples, rate, subtype))
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Welcome", upload=upload)
    prompt = in_schema(tree.c1, prompt)
    assert prompt.status == MediaStatus.READY, prompt.error
    assert prompt.duration_ms == 1500
    # The mono mix is the channels' average (sox -c 1): as loud as that, never the sum.
    expected_db = rms_db(samples.mean(axis=1))
    for out_rate in media.RATES:
        path = media_root / media.converted_name(prompt, out_rate)
        info = soundfile.info(str(path))
        assert (info.format, info.subtype, info.samplerate, info.channels) == (
            "WAV", "PCM_16", out_rate, 1)
        assert abs(info.frames - 1.5 * out_rate) <= 1  # within one frame
        converted, _ = soundfile.read(path, dtype="float64")
        assert abs(rms_db(converted) - expected_db) <= 0.5, (out_rate, rms_db(converted), expected_db)


def test_an_8_khz_mono_16_bit_wav_passes_through_sample_for_sample(tree, committed, media_root, tmp_path):
    samples = tone(1.0, 8000, 1)
    write_sound(tmp_path / "narrow.wav", samples, 8000)
    original, _ = soundfile.read(tmp_path / "narrow.wav", dtype="int16")
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Narrow", upload=SimpleUploadedFile(
            "narrow.wav", (tmp_path / "narrow.wav").read_bytes()))
    prompt = in_schema(tree.c1, prompt)
    copy, _ = soundfile.read(media_root / media.converted_name(prompt, 8000), dtype="int16")
    assert np.array_equal(copy, original)


def test_full_scale_stereo_is_averaged_and_a_float_wav_beyond_it_clipped_not_wrapped(
        tree, committed, media_root, tmp_path):
    t = np.arange(8000) / 8000
    in_phase = np.stack([0.999 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1)
    too_loud = 1.5 * np.sin(2 * np.pi * 440 * t)
    write_sound(tmp_path / "full.wav", in_phase, 8000)
    write_sound(tmp_path / "loud.wav", too_loud, 8000, "FLOAT")
    with committed():
        full = do_upload_prompt(tree.c1, name="Full", upload=SimpleUploadedFile(
            "full.wav", (tmp_path / "full.wav").read_bytes()))
        loud = do_upload_prompt(tree.c1, name="Loud", upload=SimpleUploadedFile(
            "loud.wav", (tmp_path / "loud.wav").read_bytes()))
    full, loud = in_schema(tree.c1, full), in_schema(tree.c1, loud)
    mixed, _ = soundfile.read(media_root / media.converted_name(full, 8000), dtype="int16")
    assert 32000 < np.abs(mixed.astype(np.int32)).max() < 32767  # no gain: nothing clipped
    clipped, _ = soundfile.read(media_root / media.converted_name(loud, 8000), dtype="int16")
    assert (clipped.max(), clipped.min()) == (32767, -32768)
    # Saturated, not wrapped round: no sample changes sign.
    assert np.all(clipped[too_loud > 0.01] > 0) and np.all(clipped[too_loud < -0.01] < 0)


def random_bytes(size: int) -> bytes:
    return np.random.default_rng(11).integers(0, 256, size, dtype=np.uint8).tobytes()


def tone_file(tmp_path: Path, name: str) -> bytes:
    return write_sound(tmp_path / name, tone(1.5), 44100)


# Files whose first bytes pass the upload check but whose sound cannot be converted: the
# file name, how to make its content, and what the error says.
UNCONVERTIBLE = {
    "random bytes after an MP3 frame header": (
        "noise.mp3", lambda tmp: MP3_FRAME[:4] + random_bytes(20_000),
        "This file could not be read as MP3 audio: it is damaged, or not really MP3."),
    "a RIFF/WAVE header, then garbage": (
        "broken.wav", lambda tmp: b"RIFF\x24\x00\x00\x00WAVE" + b"garbage!" * 64,
        "This file could not be read as WAV audio"),
    "a WAV cut inside its header": (
        "cut.wav", lambda tmp: tone_file(tmp, "cut.wav")[:30], "could not be read as WAV audio"),
    "a WAV cut halfway through its sound": (
        "cut.wav", lambda tmp: (lambda whole: whole[:len(whole) // 2])(tone_file(tmp, "cut.wav")),
        "This file is cut short: it holds 49% of the sound its header announces."),
    "a FLAC cut halfway through its sound": (
        "cut.flac", lambda tmp: (lambda whole: whole[:len(whole) // 2])(tone_file(tmp, "cut.flac")),
        "damaged or cut short"),
    "an Ogg page holding random bytes": (
        "noise.ogg", lambda tmp: b"OggS\x00\x02" + random_bytes(5_000), "could not be read as OGG audio"),
    "WAV sound behind an ID3 tag, named .mp3": (
        "wave.mp3", lambda tmp: b"ID3\x04\x00\x00\x00\x00\x00\x00" + tone_file(tmp, "wave.wav"),
        "could not be read as MP3 audio"),
    "a WAV of no frames": (
        "silence.wav", lambda tmp: write_sound(tmp / "silence.wav", np.zeros((0, 1)), 8000),
        "The file holds no sound."),
}


@pytest.mark.parametrize("case", UNCONVERTIBLE)
def test_a_file_that_cannot_be_converted_fails_with_a_clear_reason(tree, committed, media_root,
                                                                  tmp_path, case):
    name, make, message = UNCONVERTIBLE[case]
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Broken", upload=SimpleUploadedFile(name, make(tmp_path)))
    prompt = in_schema(tree.c1, prompt)
    assert prompt.status == MediaStatus.FAILED
    assert message in prompt.error
    assert str(media_root) not in prompt.error and "/prompt/" not in prompt.error
    # Only the upload is left: no converted copy, no half-written .part.
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [prompt.upload.name]
    with schema_context(tree.c1.schema_name):
        assert media.playable_path(prompt) is None


def test_the_type_is_the_extensions_never_guessed_from_the_content(tree, media_root, tmp_path):
    """As sox was told the type with -t: a stored .mp3 holding WAV sound (which the upload
    check would have refused) is not converted as WAV."""
    with schema_context(tree.c1.schema_name):
        prompt = Prompt(name="Misnamed")
        prompt.upload.save("upload.mp3", SimpleUploadedFile("x.mp3", tone_file(tmp_path, "x.wav")))
        media.convert_and_record("pbx.Prompt", prompt.pk)
        prompt.refresh_from_db()
    assert prompt.status == MediaStatus.FAILED
    assert prompt.error == ("This file holds WAV (Microsoft) audio, not MP3: upload it under its "
                            "own extension.")


def test_a_conversion_past_its_deadline_fails_and_leaves_nothing(tree, committed, media_root,
                                                                 tmp_path, monkeypatch):
    monkeypatch.setattr(media, "CONVERSION_TIMEOUT_SECONDS", 0)
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Slow", upload=sound(tmp_path, "slow.wav"))
    prompt = in_schema(tree.c1, prompt)
    assert (prompt.status, prompt.error) == (MediaStatus.FAILED, "Converting took longer than 0 seconds.")
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [prompt.upload.name]


def test_until_it_is_converted_a_prompt_is_not_playable(tree):
    # No commit, so no conversion: the row is what a caller meets while it converts.
    prompt = do_upload_prompt(tree.c1, name="Later", upload=SimpleUploadedFile(
        "later.wav", b"RIFF\x00\x00\x00\x00WAVEfmt "))
    assert prompt.status == MediaStatus.PENDING
    with schema_context(tree.c1.schema_name):
        assert media.playable_path(prompt) is None


# --- refusing uploads ------------------------------------------------------------------


WAV_HEAD = b"RIFF\x00\x00\x00\x00WAVEfmt "
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 60


ACCEPTED = "Upload a WAV, MP3, OGG (Vorbis or Opus) or FLAC file."


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.txt", b"hello", ACCEPTED),
    ("song.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", ACCEPTED),
    ("song", WAV_HEAD, ACCEPTED),
    ("empty.wav", b"", "The file is empty."),
    ("empty.mp3", b"", "The file is empty."),
    ("noise.mp3", b"\x00" + random_bytes(4096), "not an MP3 file"),
    ("text.mp3", b"Just a text file, named like a song.\n" * 20, "not an MP3 file"),
    ("text.ogg", b"Just a text file\n", "not an Ogg file"),
    ("really-a-wav.flac", WAV_HEAD, "not a FLAC file"),
    ("continued-page.ogg", b"OggS\x00\x00" + b"\x00" * 20, "not an Ogg file"),
    ("really-an-mp3.wav", MP3_FRAME, "not a WAV file"),
    ("text.wav", b"just some text, long enough", "not a WAV file"),
    ("really-a-wav.mp3", WAV_HEAD + b"\x00" * 32, "not an MP3 file"),
    ("zeros.mp3", b"\x00" * 64, "not an MP3 file"),
    ("bad-id3.mp3", b"ID3\x09\x00\x00\xff\xff\xff\xff", "not an MP3 file"),
    ("reserved-version.mp3", bytes([0xFF, 0xEB, 0x90, 0x64]) + b"\x00" * 60, "not an MP3 file"),
    ("huge.wav", WAV_HEAD + b"\x00" * (10 * MB), "at most 10.0 MB"),
])
def test_a_bad_upload_is_refused_and_nothing_is_kept(tree, committed, media_root, name, content, message):
    with pytest.raises(ValidationError) as refused, committed():
        do_upload_prompt(tree.c1, name="Greeting", upload=SimpleUploadedFile(name, content))
    assert list(refused.value.message_dict) == ["upload"]
    assert message in refused.value.message_dict["upload"][0]
    assert stored_files(media_root) == []
    with schema_context(tree.c1.schema_name):
        assert not Prompt.objects.exists()


def test_a_file_of_exactly_10_mb_is_accepted(tree, media_root):
    prompt = do_upload_prompt(tree.c1, name="Long", upload=SimpleUploadedFile(
        "long.wav", WAV_HEAD + b"\x00" * (10 * MB - len(WAV_HEAD))))
    assert prompt.size_bytes == 10 * MB
    assert (media_root / prompt.upload.name).stat().st_size == 10 * MB


def test_name_and_file_errors_come_together(tree):
    with pytest.raises(ValidationError) as refused:
        do_upload_prompt(tree.c1, name="", upload=None)
    assert set(refused.value.message_dict) == {"name", "upload"}


def test_prompt_names_are_unique_when_uploading_and_renaming(tree):
    do_upload_prompt(tree.c1, name="Closed", upload=SimpleUploadedFile("a.wav", WAV_HEAD))
    other = do_upload_prompt(tree.c1, name="Open", upload=SimpleUploadedFile("b.wav", WAV_HEAD))
    with pytest.raises(ValidationError) as refused:
        do_upload_prompt(tree.c1, name="Closed", upload=SimpleUploadedFile("c.wav", WAV_HEAD))
    assert list(refused.value.message_dict) == ["name"]
    with pytest.raises(ValidationError) as refused:
        do_rename_prompt(tree.c1, other, name="Closed")
    assert list(refused.value.message_dict) == ["name"]
    renamed = do_rename_prompt(tree.c1, other, name="Open hours")
    assert in_schema(tree.c1, renamed).name == "Open hours"
    # Another tenant has its own names.
    do_upload_prompt(tree.c2, name="Closed", upload=SimpleUploadedFile("a.wav", WAV_HEAD))


def test_the_60_mb_quota_counts_prompts_and_tracks_per_tenant(tree, committed, media_root):
    def big(size: int) -> SimpleUploadedFile:
        return SimpleUploadedFile("big.wav", WAV_HEAD + b"\x00" * (size - len(WAV_HEAD)))

    # Not committed: the quota is about bytes stored, converted or not.
    group = do_create_moh_group(tree.c1, name="Music")
    prompts = [do_upload_prompt(tree.c1, name=f"P{n}", upload=big(9 * MB + MB // 2)) for n in range(3)]
    for _ in range(3):
        do_add_moh_track(tree.c1, group, upload=big(9 * MB + MB // 2))
    with pytest.raises(ValidationError) as refused:
        do_upload_prompt(tree.c1, name="One more", upload=big(4 * MB))
    assert refused.value.message_dict["upload"] == [
        "This file (4.0 MB) does not fit: prompts and hold music may use 60.0 MB in all and "
        "57.0 MB are used. Delete something first."]
    with pytest.raises(ValidationError):
        do_add_moh_track(tree.c1, group, upload=big(4 * MB))
    do_upload_prompt(tree.c2, name="Beta's own", upload=big(9 * MB))  # another tenant's space
    do_upload_prompt(tree.c1, name="Fits", upload=big(3 * MB))  # exactly 60 MB
    with committed():
        do_delete_prompt(tree.c1, prompts[0])
    do_upload_prompt(tree.c1, name="One more", upload=big(4 * MB))
    assert not (media_root / prompts[0].upload.name).exists()


# --- deleting what is used -------------------------------------------------------------


def test_a_prompt_in_use_cannot_be_deleted(tree, committed, media_root, tmp_path):
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Hello", upload=sound(tmp_path, "hello.wav"))
    with schema_context(tree.c1.schema_name):
        ivr = Ivr.objects.create(name="Main menu", greeting=prompt)
        box = VoicemailBox.objects.create(number="800", name="Sales", pin="4321",
                                          greeting_unavailable=prompt)
        schedule = Schedule.objects.create(name="Office hours", default_prompt=prompt)
    with pytest.raises(ValidationError) as refused:
        do_delete_prompt(tree.c1, prompt)
    message = refused.value.messages[0]
    assert message.startswith("Prompt Hello is still used by: ")
    for user in ("Auto attendant (IVR) Main menu (greeting)",
                 "Voicemail box 800 Sales (greeting unavailable)",
                 "Schedule Office hours (default prompt)"):
        assert user in message
    assert len(stored_files(media_root)) == 3
    with schema_context(tree.c1.schema_name):
        ivr.delete()
        box.delete()
        schedule.delete()
    with committed():
        do_delete_prompt(tree.c1, prompt)
    assert stored_files(media_root) == []
    assert AuditEvent.objects.filter(account=tree.c1, action="prompt.delete").exists()


def test_a_hold_music_group_in_use_cannot_be_deleted(tree, committed, media_root, tmp_path):
    with committed():
        group = do_create_moh_group(tree.c1, name="Classical")
        do_add_moh_track(tree.c1, group, upload=sound(tmp_path, "bach.wav"))
    extension = do_create_extension(tree.c1, number="1001", name="Alice")
    with schema_context(tree.c1.schema_name):
        ring_group = RingGroup.objects.create(number="2000", name="Sales", moh_group=group)
        room = ConferenceRoom.objects.create(number="3000", name="Board", moh_group=group)
        follow_me = FollowMe.objects.create(extension=extension, moh_group=group)
    number = PhoneNumber.objects.create(e164="+14165550100", account=tree.c1, moh_group_id=group.pk)
    # Beta's number names Beta's group with the same id: no use of Acme's group.
    PhoneNumber.objects.create(e164="+14165550199", account=tree.c2, moh_group_id=group.pk)
    with pytest.raises(ValidationError) as refused:
        do_delete_moh_group(tree.c1, group)
    message = refused.value.messages[0]
    for user in ("Ring group 2000 Sales (moh group)", "Conference room 3000 Board (moh group)",
                 "Follow-me of extension 1001 (moh group)", "Phone number +14165550100"):
        assert user in message
    assert "+14165550199" not in message
    with schema_context(tree.c1.schema_name):
        ring_group.delete()
        room.delete()
        follow_me.delete()
    number.delete()
    with committed():
        do_delete_moh_group(tree.c1, group)
    assert stored_files(media_root) == []
    assert not (media_root / tree.c1.schema_name / "moh" / str(group.pk)).exists()


# --- hold-music folders ----------------------------------------------------------------


def folder(root: Path, account, group, rate: int) -> Path:
    return root / media.group_folder(account.schema_name, group.pk, rate)


def test_an_ordered_group_plays_a_playlist_in_the_tracks_order(tree, committed, media_root, tmp_path):
    with committed():
        group = do_create_moh_group(tree.c1, name="Ordered", shuffle=False)
    with schema_context(tree.c1.schema_name):
        assert media.playable_path(group) == media.STOCK_MOH  # nothing to play yet
    assert [p.name for p in folder(media_root, tree.c1, group, 8000).iterdir()] == []
    with committed():
        first = do_add_moh_track(tree.c1, group, upload=sound(tmp_path, "first.wav"))
        second = do_add_moh_track(tree.c1, group, upload=sound(tmp_path, "second.mp3"))
    first, second = in_schema(tree.c1, first), in_schema(tree.c1, second)

    def playlist(rate: int) -> list[str]:
        entries = list(folder(media_root, tree.c1, group, rate).iterdir())
        assert [entry.name for entry in entries] == [media.PLAYLIST]
        return entries[0].read_text().splitlines()

    for rate in media.RATES:
        assert playlist(rate) == [f"{FS_BASE}/{media.converted_name(track, rate)}"
                                  for track in (first, second)]
    with committed():
        do_reorder_moh_tracks(tree.c1, group, track_ids=[second.pk, first.pk])
    assert playlist(8000) == [f"{FS_BASE}/{media.converted_name(track, 8000)}"
                              for track in (second, first)]
    with schema_context(tree.c1.schema_name):
        assert media.playable_path(group) == f"local_stream://{tree.c1.schema_name}/{group.pk}"


@pytest.mark.parametrize("track_ids", ["", "first", "first,first", "first,second,999", "x"])
def test_a_reorder_must_name_every_track_once(tree, tmp_path, track_ids):
    group = do_create_moh_group(tree.c1, name="Ordered", shuffle=False)
    tracks = {"first": do_add_moh_track(tree.c1, group, upload=SimpleUploadedFile("a.wav", WAV_HEAD)),
              "second": do_add_moh_track(tree.c1, group, upload=SimpleUploadedFile("b.wav", WAV_HEAD))}
    ids = [tracks[name].pk if name in tracks else name for name in track_ids.split(",")] \
        if track_ids else []
    with pytest.raises(ValidationError) as refused:
        do_reorder_moh_tracks(tree.c1, group, track_ids=ids)
    assert list(refused.value.message_dict) == ["track_ids"]


def test_a_shuffled_group_folder_holds_its_tracks(tree, committed, media_root, tmp_path):
    with committed():
        group = do_create_moh_group(tree.c1, name="Mixed", shuffle=False)
        tracks = [do_add_moh_track(tree.c1, group, upload=sound(tmp_path, f"t{n}.wav", 0.5))
                  for n in range(2)]
        do_update_moh_group(tree.c1, group, shuffle=True)
    tracks = [in_schema(tree.c1, track) for track in tracks]
    for rate in media.RATES:
        entries = sorted(folder(media_root, tree.c1, group, rate).iterdir())
        converted = sorted(media_root / media.converted_name(track, rate) for track in tracks)
        assert [entry.name for entry in entries] == [f"{c.name.split('.')[0]}.wav" for c in converted]
        # Hard links: no second copy of the music on disk.
        assert all(os.path.samefile(e, c) for e, c in zip(entries, converted, strict=True))
    with committed():
        do_remove_moh_track(tree.c1, tracks[0])
    kept = [entry.name for entry in folder(media_root, tree.c1, group, 8000).iterdir()]
    assert kept == [f"{media.converted_name(tracks[1], 8000).split('/')[-1].split('.')[0]}.wav"]
    assert not (media_root / tracks[0].upload.name).exists()
    assert not (media_root / media.converted_name(tracks[0], 8000)).exists()


def test_group_changes_tell_freeswitch_which_streams_to_start_reload_or_stop(tree):
    node = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=1)
    node.set_esl_password("ClueCon")
    node.save()
    group = do_create_moh_group(tree.c1, name="Music")
    do_update_moh_group(tree.c1, group, name="Music 2")  # a name is not FreeSWITCH's business
    do_add_moh_track(tree.c1, group, upload=SimpleUploadedFile("a.wav", WAV_HEAD))
    do_update_moh_group(tree.c1, group, shuffle=False)
    do_delete_moh_group(tree.c1, group)
    stream = f"{tree.c1.schema_name}/{group.pk}"
    assert list(NodeCommand.objects.order_by("pk").values_list("command", flat=True)) == [
        f"start_local_stream {stream}/8000", f"start_local_stream {stream}/16000",
        f"reload_local_stream {stream}/8000", f"reload_local_stream {stream}/16000",
        f"stop_local_stream {stream}/8000", f"stop_local_stream {stream}/16000",
    ]


# --- isolation -------------------------------------------------------------------------


def test_an_uploaded_name_cannot_place_a_file_anywhere(tree, committed, media_root, tmp_path):
    upload = sound(tmp_path, "evil.wav")
    upload.name = f"../../{tree.c1.schema_name}/prompt/evil.wav"
    with committed():
        prompt = do_upload_prompt(tree.c2, name="Evil", upload=upload)
    prompt = in_schema(tree.c2, prompt)
    assert prompt.original_name == "evil.wav"
    for path in stored_files(media_root):
        assert path.relative_to(media_root).parts[0] == tree.c2.schema_name


def test_one_tenant_never_plays_or_lists_anothers_files(tree, committed, media_root, tmp_path):
    with committed():
        acme = do_upload_prompt(tree.c1, name="Welcome", upload=sound(tmp_path, "acme.wav"))
        beta = do_upload_prompt(tree.c2, name="Welcome", upload=sound(tmp_path, "beta.wav"))
        acme_group = do_create_moh_group(tree.c1, name="Music")
        acme_track = do_add_moh_track(tree.c1, acme_group, upload=sound(tmp_path, "a.wav", 0.5))
        beta_group = do_create_moh_group(tree.c2, name="Music")
        beta_track = do_add_moh_track(tree.c2, beta_group, upload=sound(tmp_path, "b.wav", 0.5))
    acme, beta = in_schema(tree.c1, acme), in_schema(tree.c2, beta)
    assert acme.pk == beta.pk and acme_group.pk == beta_group.pk  # same ids, separate schemas
    with schema_context(tree.c2.schema_name):
        assert media.playable_path(beta).startswith(f"{FS_BASE}/{tree.c2.schema_name}/prompt/")
        # Acme's row, carried into Beta's schema by mistake, plays nothing of Acme's.
        assert media.playable_path(acme) is None
        assert media.playable_path(beta_group) == f"local_stream://{tree.c2.schema_name}/{beta_group.pk}"
    # Beta's group folder holds Beta's track only.
    beta_track = in_schema(tree.c2, beta_track)
    beta_folder = folder(media_root, tree.c2, beta_group, 8000)
    assert [p.name for p in beta_folder.iterdir()] == [
        media.converted_name(beta_track, 8000).split("/")[-1].replace(".8000", "")]
    # Beta cannot reorder its group with Acme's track ids.
    with pytest.raises(ValidationError):
        do_reorder_moh_tracks(tree.c2, beta_group, track_ids=[acme_track.pk, 12345])
    with schema_context(tree.c2.schema_name):
        assert MohTrack.objects.get().pk == beta_track.pk


def test_no_url_serves_media(tree, committed, tmp_path):
    """The files reach FreeSWITCH through shared storage; nothing serves them over HTTP,
    on the tenants' hosts or the provider's."""
    with committed():
        prompt = do_upload_prompt(tree.c1, name="Welcome", upload=sound(tmp_path, "w.wav"))
    prompt = in_schema(tree.c1, prompt)
    names = [prompt.upload.name, media.converted_name(prompt, 8000)]
    for host in ("c1.localhost", "c2.localhost", "localhost"):
        browser = Browser(host)
        for name in names:
            for path in (f"/{name}", f"/media/{name}"):
                assert browser.get(path).status_code == 404, (host, path)
