"""Recorded sound on disk: checking an upload, storing it, converting it with sox, and the
names FreeSWITCH plays it by.

Layout under MEDIA_ROOT (one folder per tenant schema; no name is the uploader's):

    <schema>/prompt/<hex>.mp3             the upload as sent (or .wav)
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
import subprocess
import wave
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Sum
from django_tenants.utils import schema_context

from pbx.models import MediaStatus, MohGroup, MohTrack, Prompt
from pbx.signals import tenant_config_changed

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB
TENANT_QUOTA_BYTES = 60 * MB
RATES = (8000, 16000)
EXTENSIONS = (".wav", ".mp3")
SOX_TIMEOUT_SECONDS = 120
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


def check_upload(upload: UploadedFile | None) -> str:
    """The upload's extension (``.wav`` or ``.mp3``) when its name, size and first bytes
    agree; otherwise a field error on ``upload``. Whether the audio decodes is sox's
    verdict, later."""
    if upload is None:
        raise _upload_error("Choose a WAV or MP3 file.")
    extension = PurePosixPath((upload.name or "").replace("\\", "/")).suffix.lower()
    if extension not in EXTENSIONS:
        raise _upload_error("Upload a WAV or MP3 file.")
    if not upload.size:
        raise _upload_error("The file is empty.")
    if upload.size > MAX_FILE_BYTES:
        raise _upload_error(f"The file is {megabytes(upload.size)}; a file may have at most "
                            f"{megabytes(MAX_FILE_BYTES)}.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if extension == ".wav" and not _is_wav(head):
        raise _upload_error("This file is not a WAV file (it has no RIFF/WAVE header).")
    if extension == ".mp3" and not _is_mp3(head):
        raise _upload_error("This file is not an MP3 file (it starts with neither an ID3 tag "
                            "nor an MPEG audio frame).")
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


# --- storing and converting ------------------------------------------------------------


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


def _sox_message(stderr: bytes, source: str, original_name: str) -> str:
    """sox's last complaint, with our paths replaced by the name the user uploaded."""
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    message = (lines[-1] if lines else "sox could not read the file.").replace(source, original_name)
    return message.replace(str(Path(settings.MEDIA_ROOT)), "")[:500]


def convert(obj: Media) -> tuple[int, str]:
    """Make the mono 16-bit WAV copies at every rate with sox (each written beside its
    final name and renamed, so FreeSWITCH never reads half a file). Returns the duration
    in milliseconds and an error text, empty on success."""
    source = default_storage.path(obj.upload.name)
    kind = PurePosixPath(obj.upload.name).suffix.lstrip(".")
    duration_ms = 0
    for rate in RATES:
        target = Path(default_storage.path(converted_name(obj, rate)))
        partial = target.with_name(target.name + ".part")
        # The input type is named, not guessed by sox from the content.
        command = ["sox", "--no-show-progress", "-t", kind, source,
                   "-t", "wav", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer",
                   str(partial)]
        try:
            subprocess.run(command, check=True, capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=SOX_TIMEOUT_SECONDS)
        except FileNotFoundError:
            log.error("sox is not installed: cannot convert %s", obj.upload.name)
            return 0, "The conversion program (sox) is missing on the server."
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            return 0, f"Converting took longer than {SOX_TIMEOUT_SECONDS} seconds."
        except subprocess.CalledProcessError as exc:
            partial.unlink(missing_ok=True)
            return 0, _sox_message(exc.stderr, source, obj.original_name)
        os.replace(partial, target)
        with wave.open(str(target), "rb") as converted:
            duration_ms = round(converted.getnframes() * 1000 / converted.getframerate())
    if not duration_ms:
        return 0, "The file holds no sound."
    return duration_ms, ""


def schedule_conversion(obj: Media) -> None:
    """Convert in a Celery worker once the upload's row is committed."""
    schema, label, pk = connection.schema_name, obj._meta.label, obj.pk

    def send() -> None:
        from pbx.tasks import convert_media

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
                # Deleted while sox ran: its deletion could not remove what sox wrote.
                transaction.on_commit(lambda: delete_files(stored_names(obj)))
            return
        if group_id is not None and not error:
            publish_group(group_id)
        from tenants.models import Account

        account = Account.objects.filter(schema_name=connection.schema_name).first()
        if account is not None:
            tenant_config_changed.send(sender=model, account=account)


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
