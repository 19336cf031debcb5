"""Recorded sound on disk: checking an upload, storing it, converting it (libsndfile through
soundfile, the SoX resampler through soxr: wheels, no system program), and the names
FreeSWITCH plays it by.

Layout under MEDIA_ROOT (one folder per tenant schema; no name is the uploader's):

    <schema>/prompt/<hex>.mp3             the upload as sent (or .wav, .ogg, .flac)
    <schema>/prompt/<hex>.8000.wav        the copies FreeSWITCH plays: mono, 16-bit
    <schema>/prompt/<hex>.16000.wav
    <schema>/mohtrack/<hex>.…             the same for hold-music tracks
    <schema>/moh/<group id>/8000/         what mod_local_stream plays for a group at that
    <schema>/moh/<group id>/16000/        rate: the tracks, hard-linked (shuffled groups),
                                          or one playlist.loc naming them in order

FreeSWITCH nodes read the same tree, mounted at FREESWITCH_MEDIA_BASE (docs/media.md).
Everything here runs in the tenant's schema (the caller's ``schema_context``).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import soundfile
import soxr
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import schema_context

from pbx.models import MediaStatus, MohGroup, MohTrack, Prompt
from pbx.signals import IndexScope, tenant_config_changed

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB
TENANT_QUOTA_BYTES = 60 * MB
RATES = (8000, 16000)
CONVERSION_TIMEOUT_SECONDS = 120
# FreeSWITCH's own hold music (the stock local_stream.conf, which ours keeps).
STOCK_MOH = "local_stream://moh"
# mod_local_stream reads any file whose path contains ".loc" as a list of files to play.
PLAYLIST = "playlist.loc"
MEDIA_MODELS: dict[str, type[Prompt | MohTrack]] = {"pbx.Prompt": Prompt, "pbx.MohTrack": MohTrack}

Media = Prompt | MohTrack


def _upload_error(message: str) -> ValidationError:
    return ValidationError({"upload": [message]})


def megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


# --- checking an upload ----------------------------------------------------------------


def _is_wav(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then no reserved version, layer, bitrate
    or sample-rate value."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


def _is_mp3(head: bytes) -> bool:
    if head[:3] == b"ID3":
        # An ID3v2 tag: major version 2-4, flags, then a size in four 7-bit bytes.
        return len(head) >= 10 and head[3] in (2, 3, 4) and all(b < 0x80 for b in head[6:10])
    return _is_mp3_frame(head)


def _is_ogg(head: bytes) -> bool:
    """The first Ogg page: capture pattern, stream structure version 0, and the
    beginning-of-stream flag."""
    return head[:5] == b"OggS\x00" and len(head) > 5 and bool(head[5] & 0x02)


def _is_flac(head: bytes) -> bool:
    return head[:4] == b"fLaC"


@dataclass(frozen=True)
class AudioType:
    """An accepted kind of upload: how its first bytes look, and which of libsndfile's
    container formats the converter must find in it (the type is the extension's, never
    guessed from the content)."""

    label: str
    starts_right: Callable[[bytes], bool]
    wrong_start: str
    libsndfile_formats: frozenset[str]
    # Whether libsndfile's frame count comes from the file's own header (WAV, FLAC) or
    # its last page (Ogg), so fewer decoded frames mean a cut-off file; an MP3's count
    # is an estimate unless a Xing/LAME header gives it.
    length_is_exact: bool = True


AUDIO_TYPES: dict[str, AudioType] = {
    ".wav": AudioType("WAV", _is_wav, "This file is not a WAV file (it has no RIFF/WAVE header).",
                      frozenset({"WAV", "WAVEX"})),
    ".mp3": AudioType("MP3", _is_mp3, "This file is not an MP3 file (it starts with neither an "
                      "ID3 tag nor an MPEG audio frame).", frozenset({"MP3"}), length_is_exact=False),
    ".ogg": AudioType("OGG", _is_ogg, "This file is not an Ogg file (it does not start with an "
                      "Ogg page).", frozenset({"OGG"})),
    ".flac": AudioType("FLAC", _is_flac, "This file is not a FLAC file (it does not start with "
                       "fLaC).", frozenset({"FLAC"})),
}
EXTENSIONS = tuple(AUDIO_TYPES)
ACCEPTED = "a WAV, MP3, OGG (Vorbis or Opus) or FLAC file"


def check_upload(upload: UploadedFile | None) -> str:
    """The upload's extension (``.wav``, ``.mp3``, ``.ogg`` or ``.flac``) when its name,
    size and first bytes agree; otherwise a field error on ``upload``. Whether the audio
    decodes is the converter's verdict, later."""
    if upload is None:
        raise _upload_error(f"Choose {ACCEPTED}.")
    extension = PurePosixPath((upload.name or "").replace("\\", "/")).suffix.lower()
    if extension not in AUDIO_TYPES:
        raise _upload_error(f"Upload {ACCEPTED}.")
    if not upload.size:
        raise _upload_error("The file is empty.")
    if upload.size > MAX_FILE_BYTES:
        raise _upload_error(f"The file is {megabytes(upload.size)}; a file may have at most "
                            f"{megabytes(MAX_FILE_BYTES)}.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not AUDIO_TYPES[extension].starts_right(head):
        raise _upload_error(AUDIO_TYPES[extension].wrong_start)
    return extension


def used_bytes() -> int:
    return sum(model.objects.aggregate(total=Sum("size_bytes"))["total"] or 0
               for model in (Prompt, MohTrack))


def check_quota(size: int) -> None:
    """Refuse ``size`` more bytes beyond the tenant's quota. Counted under a lock held to
    the end of the transaction, so two uploads at once cannot both take the last space."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"pbx.media.quota:{connection.schema_name}"])
    used = used_bytes()
    if used + size > TENANT_QUOTA_BYTES:
        raise _upload_error(
            f"This file ({megabytes(size)}) does not fit: prompts and hold music may use "
            f"{megabytes(TENANT_QUOTA_BYTES)} in all and {megabytes(used)} are used. "
            "Delete something first."
        )


# --- storing ---------------------------------------------------------------------------


def store(obj: Media, upload: UploadedFile, extension: str) -> None:
    """Save the upload under the tenant's folder (pbx.models.media.media_upload_path) and
    mark ``obj`` pending; ``obj`` itself is not saved."""
    obj.original_name = PurePosixPath((upload.name or "").replace("\\", "/")).name[:255]
    obj.size_bytes = upload.size
    obj.status, obj.error, obj.duration_ms = MediaStatus.PENDING, "", 0
    obj.upload.save(f"upload{extension}", upload, save=False)


def converted_name(obj: Media, rate: int) -> str:
    return f"{PurePosixPath(obj.upload.name).with_suffix('')}.{rate}.wav"


def stored_names(obj: Media) -> list[str]:
    """Every file kept for ``obj``: the upload and its converted copies."""
    if not obj.upload:
        return []
    return [obj.upload.name, *(converted_name(obj, rate) for rate in RATES)]


def delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete media file %s", name, exc_info=True)


def delete_files_after_commit(names: list[str]) -> None:
    """Files go when the row's deletion commits (a rolled-back delete keeps them)."""
    transaction.on_commit(lambda: delete_files(names), robust=True)


# --- converting ------------------------------------------------------------------------

# Samples decoded at a time (all channels): memory stays small whatever the upload's
# length (a 10 MB MP3 at a low bit rate holds hours of sound), and the deadline is
# checked between blocks.
BLOCK_SAMPLES = 1 << 18
# The SoX resampler at SoX's own default for `rate` ("-h", 20-bit precision), which the
# sox command used before.
RESAMPLE_QUALITY = "HQ"
# Encodings whose decoded samples are already 16-bit values: at their own rate and in
# mono they pass through sample for sample, as sox copied them, with no dither.
SIXTEEN_BIT_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW", "IMA_ADPCM",
                                  "MS_ADPCM", "GSM610"})
# A fixed seed for the dither noise: one upload always converts to the same bytes.
DITHER_SEED = 8000


class ConversionError(Exception):
    """Why an upload cannot be converted, in words for the person who uploaded it."""


def _to_pcm16(samples: np.ndarray, dither: np.random.Generator | None) -> np.ndarray:
    """Full scale is 32768, as sox scales; a peak beyond it (a float WAV above 0 dBFS, a
    resampler's overshoot) is clipped, never wrapped round."""
    scaled = samples.astype(np.float64) * 32768.0
    if dither is not None:
        # One step of triangular (TPDF) dither, as sox adds when it shortens samples to
        # 16 bits after mixing or resampling.
        scaled += dither.random(len(scaled)) - dither.random(len(scaled))
    return np.clip(np.rint(scaled), -32768, 32767).astype(np.int16)


class _Copy:
    """One converted copy being written: its resampler (none at the upload's own rate),
    its dither (none when samples pass through) and its ``.part`` file."""

    def __init__(self, partial: Path, sound: soundfile.SoundFile, rate: int) -> None:
        self.frames = 0
        self.resampler = None if sound.samplerate == rate else soxr.ResampleStream(
            sound.samplerate, rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)
        passes_through = (self.resampler is None and sound.channels == 1
                          and sound.subtype in SIXTEEN_BIT_SUBTYPES)
        self.dither = None if passes_through else np.random.default_rng(DITHER_SEED)
        self.file = soundfile.SoundFile(partial, "w", samplerate=rate, channels=1, format="WAV",
                                        subtype="PCM_16")

    def write(self, mono: np.ndarray, last: bool) -> None:
        if self.resampler is not None:
            mono = self.resampler.resample_chunk(mono, last=last)
        if len(mono):
            self.file.write(_to_pcm16(mono, self.dither))
            self.frames += len(mono)


def _wav_fraction_present(path: Path) -> float:
    """How much of the sound a WAV file's ``data`` chunk announces is in the file: 1.0 when
    all of it is (or when the writer left the length open, as streaming recorders do).
    libsndfile quietly plays what is there, so a cut-off upload is caught here."""
    file_size, frame_bytes = path.stat().st_size, 1
    with path.open("rb") as wav:
        wav.seek(12)  # past "RIFF", the RIFF size and "WAVE"
        while len(header := wav.read(8)) == 8:
            chunk_id, size = header[:4], int.from_bytes(header[4:], "little")
            if chunk_id == b"data":
                if size in (0, 0xFFFFFFFF):
                    return 1.0
                present = file_size - wav.tell()
                # A partial last frame is no missing sound.
                return 1.0 if size - present < frame_bytes else present / size
            if chunk_id == b"fmt " and size >= 14:
                frame_bytes = max(1, int.from_bytes(wav.read(14)[12:14], "little"))  # nBlockAlign
                size -= 14
            wav.seek(size + (size & 1), os.SEEK_CUR)
    return 1.0


def _cut_short(fraction: float) -> ConversionError:
    return ConversionError(f"This file is cut short: it holds {int(fraction * 100)}% of the sound "
                           "its header announces. Upload the complete file.")


def _decode_into(source: Path, audio_type: AudioType, partials: dict[int, Path]) -> dict[int, int]:
    """Decode ``source`` block by block, mix it down to mono and write the copy at every
    rate; returns the frames written per rate. The mix is the channels' average (sox's
    ``channels`` effect): no gain, so it cannot clip; there is no normalising, as there
    was none with sox."""
    deadline = time.monotonic() + CONVERSION_TIMEOUT_SECONDS
    try:
        sound = soundfile.SoundFile(source)
    except soundfile.SoundFileError as exc:
        log.info("libsndfile cannot open %s: %s", source.name, exc)
        raise ConversionError(f"This file could not be read as {audio_type.label} audio: it is "
                              f"damaged, or not really {audio_type.label}.") from exc
    with sound, ExitStack() as open_copies:
        if sound.format not in audio_type.libsndfile_formats:
            # The type is the extension's, as sox was told it with -t.
            raise ConversionError(f"This file holds {sound.format_info} audio, not "
                                  f"{audio_type.label}: upload it under its own extension.")
        if sound.format in ("WAV", "WAVEX") and (fraction := _wav_fraction_present(source)) < 1:
            raise _cut_short(fraction)
        copies: dict[int, _Copy] = {}
        for rate, partial in partials.items():
            copies[rate] = _Copy(partial, sound, rate)
            open_copies.enter_context(copies[rate].file)
        block_frames = max(256, BLOCK_SAMPLES // sound.channels)
        frames_read = 0
        while True:
            if time.monotonic() > deadline:
                raise ConversionError(f"Converting took longer than {CONVERSION_TIMEOUT_SECONDS} seconds.")
            try:
                block = sound.read(block_frames, dtype="float32", always_2d=True)
            except soundfile.SoundFileError as exc:
                log.info("libsndfile cannot read %s past frame %s: %s", source.name, frames_read, exc)
                raise ConversionError("This file is damaged or cut short: its sound cannot be "
                                      "decoded to the end.") from exc
            last = not len(block)
            mono = block.mean(axis=1, dtype=np.float32)
            for copy in copies.values():
                copy.write(mono, last)
            if last:
                break
            frames_read += len(block)
        if audio_type.length_is_exact and frames_read < sound.frames:
            raise _cut_short(frames_read / sound.frames)
    return {rate: copy.frames for rate, copy in copies.items()}


def convert(obj: Media) -> tuple[int, str]:
    """Make the mono 16-bit WAV copies at every rate in one pass over the upload (each
    written beside its final name and renamed, so FreeSWITCH never reads half a file).
    Returns the duration in milliseconds and an error text, empty on success."""
    source = Path(default_storage.path(obj.upload.name))
    audio_type = AUDIO_TYPES.get(source.suffix.lower())
    if audio_type is None:
        return 0, f"Upload {ACCEPTED}."
    if not audio_type.libsndfile_formats & soundfile.available_formats().keys():
        # Only with a system libsndfile (no soundfile wheel for this platform) lacking it.
        log.error("libsndfile %s cannot read %s files", soundfile.__libsndfile_version__, audio_type.label)
        return 0, f"This server cannot read {audio_type.label} files."
    targets = {rate: Path(default_storage.path(converted_name(obj, rate))) for rate in RATES}
    partials = {rate: target.with_name(target.name + ".part") for rate, target in targets.items()}
    error = ""
    try:
        frames = _decode_into(source, audio_type, partials)
        if not frames[RATES[-1]]:
            error = "The file holds no sound."
    except ConversionError as exc:
        error = str(exc)
    except (OSError, soundfile.SoundFileError):
        # Reading errors are ConversionErrors: this is the server failing to write.
        log.exception("could not write the converted copies of %s", obj.upload.name)
        error = "The converted copies could not be stored on the server; upload the file again later."
    except BaseException:
        _remove(partials.values())
        raise
    if error:
        _remove(partials.values())
        return 0, error
    for rate in RATES:
        os.replace(partials[rate], targets[rate])
    return round(frames[RATES[-1]] * 1000 / RATES[-1]), ""


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def schedule_conversion(obj: Media) -> None:
    """Convert in a Celery worker once the upload's row is committed."""
    schema, label, pk = connection.schema_name, obj._meta.label, obj.pk

    def send() -> None:
        try:
            convert_media.apply_async((schema, label, pk), retry=False)
        except Exception:
            log.exception("could not queue the conversion of %s %s in %s", label, pk, schema)

    transaction.on_commit(send, robust=True)


def convert_and_record(model_label: str, pk: int) -> None:
    """Convert one pending upload and record the outcome (the Celery task's work). A track
    that became playable joins its group's stream."""
    model = MEDIA_MODELS[model_label]
    obj = model.objects.filter(pk=pk).first()
    if obj is None or obj.status != MediaStatus.PENDING or not obj.upload:
        return  # deleted meanwhile, or a redelivered task for work already done
    duration_ms, error = convert(obj)
    with transaction.atomic():
        group_id = getattr(obj, "group_id", None)
        if group_id is not None:
            _lock_group(group_id)
        updated = model.objects.filter(pk=pk, status=MediaStatus.PENDING).update(
            status=MediaStatus.FAILED if error else MediaStatus.READY,
            duration_ms=duration_ms, error=error,
        )
        if not updated:
            if not model.objects.filter(pk=pk).exists():
                # Deleted while converting: its deletion could not remove the copies.
                transaction.on_commit(lambda: delete_files(stored_names(obj)))
            return
        if group_id is not None and not error:
            publish_group(group_id)
        from tenants.models import Account

        account = Account.objects.filter(schema_name=connection.schema_name).first()
        if account is not None:
            tenant_config_changed.send(sender=model, account=account, index=IndexScope.NOTHING)


# Defined beside its work rather than in pbx.tasks, which only gathers the app's tasks for
# Celery: schedule_conversion queues it, and pbx.tasks importing this module back would
# close a cycle.
@shared_task(name="pbx.convert_media", ignore_result=True)
def convert_media(schema_name: str, model_label: str, pk: int) -> None:
    """Convert an uploaded prompt or hold-music track (scheduled by the upload's action
    once it commits)."""
    if model_label not in MEDIA_MODELS:
        raise ValueError(f"not a media model: {model_label!r}")
    with schema_context(schema_name):
        convert_and_record(model_label, pk)


# --- what FreeSWITCH plays -------------------------------------------------------------


def freeswitch_path(name: str) -> str:
    """Where a FreeSWITCH node finds the stored file ``name``."""
    base = settings.FREESWITCH_MEDIA_BASE.rstrip("/")
    if not base.startswith("/") or ".loc" in base.lower():
        # mod_local_stream would read every file under a ".loc" path as a playlist.
        raise ImproperlyConfigured("FREESWITCH_MEDIA_BASE must be an absolute path without "
                                   f"'.loc' in it, not {settings.FREESWITCH_MEDIA_BASE!r}.")
    return f"{base}/{name}"


def stream_name(schema: str, group_id: int) -> str:
    """The group's name for ``local_stream://``; mod_local_stream appends the channel's
    rate and finds ``<name>/8000`` or ``<name>/16000``."""
    return f"{schema}/{group_id}"


def stream_names(schema: str, group_id: int) -> list[str]:
    return [f"{stream_name(schema, group_id)}/{rate}" for rate in RATES]


def group_folder(schema: str, group_id: int, rate: int | None = None) -> str:
    folder = f"{schema}/moh/{group_id}"
    return f"{folder}/{rate}" if rate else folder


def _closest_rate(rate: int) -> int:
    return min(RATES, key=lambda candidate: abs(candidate - rate))


def playable_path(obj: Media | MohGroup | None, rate: int = 8000) -> str | None:
    """What FreeSWITCH plays for ``obj`` on a channel at ``rate`` Hz (call-control apps
    and the dialplan): a prompt's or track's converted file (None until it is ready); a
    hold-music group's ``local_stream://``, or FreeSWITCH's stock music while the group
    has no ready track, as for no group at all."""
    if obj is None:
        return STOCK_MOH
    schema = connection.schema_name
    if isinstance(obj, MohGroup):
        if not obj.tracks.filter(status=MediaStatus.READY).exists():
            return STOCK_MOH
        return f"local_stream://{stream_name(schema, obj.pk)}"
    if obj.status != MediaStatus.READY or not obj.upload:
        return None
    if not obj.upload.name.startswith(f"{schema}/"):
        # A row read in one tenant's schema never names another tenant's file.
        log.error("%s %s in %s names %s", obj._meta.label, obj.pk, schema, obj.upload.name)
        return None
    return freeswitch_path(converted_name(obj, _closest_rate(rate)))


# --- hold-music folders ----------------------------------------------------------------


def _lock_group(group_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"pbx.media.moh:{connection.schema_name}:{group_id}"])


def make_group_folders(group_id: int) -> None:
    """mod_local_stream ends a stream whose folder it cannot open: they exist before the
    stream is started."""
    for rate in RATES:
        Path(default_storage.path(group_folder(connection.schema_name, group_id, rate))).mkdir(
            parents=True, exist_ok=True)


def _replace_with_link(source: Path, target: Path) -> None:
    staging = target.parent.parent / f".{target.parent.name}-{target.name}"
    staging.unlink(missing_ok=True)
    try:
        os.link(source, staging)
    except OSError:
        # A file system without hard links: a copy plays the same.
        shutil.copyfile(source, staging)
    os.replace(staging, target)


def _replace_with_text(target: Path, text: str) -> None:
    # Staged outside the stream's folder: mod_local_stream would play the staging file.
    staging = target.parent.parent / f".{target.parent.name}-{target.name}"
    staging.write_text(text)
    os.replace(staging, target)


def publish_group(group_id: int) -> None:
    """Make the group's folders hold what mod_local_stream must play: for a shuffled
    group its ready tracks, hard-linked (local_stream shuffles a folder); otherwise one
    playlist in the tracks' order (a folder has none). In a transaction: serialised per
    group, and the tracks are read after the lock, so the last writer's view wins."""
    _lock_group(group_id)
    group = MohGroup.objects.filter(pk=group_id).first()
    if group is None:
        return
    schema = connection.schema_name
    tracks = list(group.tracks.filter(status=MediaStatus.READY).order_by("position", "id"))
    for rate in RATES:
        folder = Path(default_storage.path(group_folder(schema, group_id, rate)))
        folder.mkdir(parents=True, exist_ok=True)
        if group.shuffle:
            keep = set()
            for track in tracks:
                entry = folder / f"{PurePosixPath(track.upload.name).stem}.wav"
                keep.add(entry.name)
                if not entry.exists():
                    _replace_with_link(Path(default_storage.path(converted_name(track, rate))), entry)
        else:
            keep = {PLAYLIST}
            _replace_with_text(folder / PLAYLIST, "".join(
                freeswitch_path(converted_name(track, rate)) + "\n" for track in tracks))
        for entry in folder.iterdir():
            if entry.name not in keep:
                entry.unlink(missing_ok=True)


def publish_group_after_commit(group_id: int) -> None:
    schema = connection.schema_name

    def publish() -> None:
        with schema_context(schema), transaction.atomic():
            publish_group(group_id)

    transaction.on_commit(publish, robust=True)


def remove_group_folder_after_commit(group_id: int) -> None:
    folder = Path(default_storage.path(group_folder(connection.schema_name, group_id)))
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True), robust=True)
