"""Prompts and hold-music groups (seed 003 "Hold Music": groups of tracks played in
random order, 10 MB per file, 60 MB in all). An upload is checked and stored here and
converted by a Celery task once it commits (pbx.media), so it starts as "Converting"."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Max
from django_tenants.utils import schema_context

from common.signals import platform_config_changed
from pbx import media
from pbx.actions.common import changed, only
from pbx.actions.crud import authorize
from pbx.destinations import label_of
from pbx.models import FollowMe, MohGroup, MohTrack, Prompt, ScheduleEvent
from pbx.models.destinations import OBJECT_KINDS
from pbx.signals import IndexScope, moh_streams_changed
from tenants.actions import record
from tenants.models import Account, PhoneNumber, User

MOH_GROUP_FIELDS = ("name", "shuffle")


def _add_upload(obj: media.Media, upload: UploadedFile | None) -> None:
    """Check, store and save a new prompt or track, and queue its conversion. Every
    field's errors are reported together; the file is stored only once all pass."""
    errors: dict[str, list[str]] = {}
    extension = ""
    try:
        extension = media.check_upload(upload)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        obj.full_clean(exclude=["upload"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    media.check_quota(upload.size)
    media.store(obj, upload, extension)
    try:
        obj.save()
    except BaseException:
        media.delete_files([obj.upload.name])
        raise
    media.schedule_conversion(obj)


def _holder_label(holder: models.Model) -> str:
    if holder._meta.label in OBJECT_KINDS.values():
        return label_of(holder)
    if isinstance(holder, ScheduleEvent):
        return f"{label_of(holder.schedule)}, event {holder.name}"
    if isinstance(holder, FollowMe):
        return f"Follow-me of extension {holder.extension.number}"
    return str(holder)


def users_of(target: models.Model) -> list[str]:
    """Every object whose protected foreign key names ``target`` (this schema): an IVR's
    greeting, a voicemail box's, a ring group's hold music, …; found from the models, so
    a new use is covered without a change here."""
    found = []
    for model in apps.get_app_config("pbx").get_models():
        for field in model._meta.get_fields():
            if (isinstance(field, models.ForeignKey) and field.related_model is type(target)
                    and field.remote_field.on_delete is models.PROTECT):
                found += [f"{_holder_label(holder)} ({field.verbose_name})"
                          for holder in model.objects.filter(**{field.name: target})]
    return found


def _refuse_if_used(label: str, used_by: list[str]) -> None:
    if used_by:
        # The list rides along as a parameter too: the API answers it as ``used_by``.
        message = f"{label} is still used by: {'; '.join(used_by)}. Choose something else there first."
        raise ValidationError(message.replace("%", "%%"), code="in_use", params={"used_by": used_by})


# --- prompts ---------------------------------------------------------------------------


@transaction.atomic
def do_upload_prompt(account: Account, *, name: str, upload: UploadedFile | None,
                     actor: User | None = None, ip: str | None = None) -> Prompt:
    authorize(actor, account)
    with schema_context(account.schema_name):
        prompt = Prompt(name=name)
        _add_upload(prompt, upload)
    record(actor, account, "prompt.upload", ip, name=prompt.name, file=prompt.original_name,
           bytes=prompt.size_bytes)
    changed(account, index=IndexScope.NOTHING)
    return prompt


@transaction.atomic
def do_rename_prompt(account: Account, prompt: Prompt, *, name: str,
                     actor: User | None = None, ip: str | None = None) -> Prompt:
    authorize(actor, account)
    with schema_context(account.schema_name):
        prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
        old_name, prompt.name = prompt.name, name
        prompt.full_clean()
        # Only the name: the conversion task may be writing the status meanwhile.
        prompt.save(update_fields=["name"])
    record(actor, account, "prompt.rename", ip, old_name=old_name, name=name)
    changed(account, index=IndexScope.NOTHING)
    return prompt


@transaction.atomic
def do_delete_prompt(account: Account, prompt: Prompt, *, actor: User | None = None,
                     ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
        _refuse_if_used(f"Prompt {prompt.name}", users_of(prompt))
        files, name = media.stored_names(prompt), prompt.name
        prompt.delete()
        media.delete_files_after_commit(files)
    record(actor, account, "prompt.delete", ip, name=name)
    changed(account, index=IndexScope.NOTHING)


# --- hold-music groups -----------------------------------------------------------------


def _streams_changed(account: Account, **streams: list[str]) -> None:
    """A group appeared, went or changed its settings: local_stream.conf (one document
    for the whole platform) is out of date, and FreeSWITCH must act on its streams."""
    changed(account, index=IndexScope.NOTHING)
    platform_config_changed.send(sender=MohGroup, reason="moh")
    moh_streams_changed.send(sender=MohGroup, account=account, **streams)


@transaction.atomic
def do_create_moh_group(account: Account, *, name: str, shuffle: bool = True,
                        actor: User | None = None, ip: str | None = None) -> MohGroup:
    authorize(actor, account)
    with schema_context(account.schema_name):
        group = MohGroup(name=name, shuffle=shuffle)
        group.full_clean()
        group.save()
        media.make_group_folders(group.pk)
        streams = media.stream_names(account.schema_name, group.pk)
    record(actor, account, "moh_group.create", ip, name=name, shuffle=shuffle)
    _streams_changed(account, start=streams)
    return group


@transaction.atomic
def do_update_moh_group(account: Account, group: MohGroup, *, actor: User | None = None,
                        ip: str | None = None, **fields) -> MohGroup:
    authorize(actor, account)
    only(fields, MOH_GROUP_FIELDS)
    with schema_context(account.schema_name):
        group = MohGroup.objects.select_for_update().get(pk=group.pk)
        was_shuffled = group.shuffle
        for name, value in fields.items():
            setattr(group, name, value)
        group.full_clean()
        group.save()
        reshuffled = group.shuffle != was_shuffled
        if reshuffled:
            media.publish_group_after_commit(group.pk)
        streams = media.stream_names(account.schema_name, group.pk)
    record(actor, account, "moh_group.update", ip, name=group.name, fields=sorted(fields))
    if reshuffled:
        _streams_changed(account, reload=streams)
    else:
        changed(account, index=IndexScope.NOTHING)  # the name is ours only, not in local_stream.conf
    return group


@transaction.atomic
def do_delete_moh_group(account: Account, group: MohGroup, *, actor: User | None = None,
                        ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        group = MohGroup.objects.select_for_update().get(pk=group.pk)
        numbers = PhoneNumber.objects.filter(account=account, moh_group_id=group.pk)
        _refuse_if_used(f"Hold music {group.name}", users_of(group) + [
            f"Phone number {e164}" for e164 in numbers.values_list("e164", flat=True)])
        files = [name for track in group.tracks.all() for name in media.stored_names(track)]
        streams = media.stream_names(account.schema_name, group.pk)
        media.remove_group_folder_after_commit(group.pk)
        media.delete_files_after_commit(files)
        name = group.name
        group.delete()
    record(actor, account, "moh_group.delete", ip, name=name)
    _streams_changed(account, stop=streams)


@transaction.atomic
def do_add_moh_track(account: Account, group: MohGroup, *, upload: UploadedFile | None,
                     name: str = "", actor: User | None = None, ip: str | None = None) -> MohTrack:
    """A track goes last in the group. mod_local_stream re-reads a group's folder after
    each pass through it, so FreeSWITCH needs no command: the converted track is linked
    into the folder (pbx.media.publish_group) when it is ready."""
    authorize(actor, account)
    with schema_context(account.schema_name):
        group = MohGroup.objects.select_for_update().get(pk=group.pk)
        last = group.tracks.aggregate(last=Max("position"))["last"]
        if not name and upload is not None:
            name = PurePosixPath((upload.name or "").replace("\\", "/")).stem[:100]
        track = MohTrack(group=group, name=name, position=0 if last is None else last + 1)
        _add_upload(track, upload)
    record(actor, account, "moh_track.add", ip, group=group.name, name=track.name,
           file=track.original_name, bytes=track.size_bytes)
    changed(account, index=IndexScope.NOTHING)
    return track


@transaction.atomic
def do_remove_moh_track(account: Account, track: MohTrack, *, actor: User | None = None,
                        ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        track = MohTrack.objects.select_related("group").get(pk=track.pk)
        files, group = media.stored_names(track), track.group
        name = track.name
        track.delete()
        media.publish_group_after_commit(group.pk)
        media.delete_files_after_commit(files)
    record(actor, account, "moh_track.remove", ip, group=group.name, name=name)
    changed(account, index=IndexScope.NOTHING)


@transaction.atomic
def do_reorder_moh_tracks(account: Account, group: MohGroup, *, track_ids: list[int],
                          actor: User | None = None, ip: str | None = None) -> list[MohTrack]:
    """Put the group's tracks in the order of ``track_ids``, which must name each of
    them once. The order is what callers hear when the group is not shuffled."""
    authorize(actor, account)
    with schema_context(account.schema_name):
        group = MohGroup.objects.select_for_update().get(pk=group.pk)
        tracks = {track.pk: track for track in group.tracks.all()}
        try:
            wanted = [int(pk) for pk in track_ids]
        except (TypeError, ValueError):
            wanted = []
        if sorted(wanted) != sorted(tracks):
            raise ValidationError({"track_ids": ["List every track of this group exactly once."]})
        for position, pk in enumerate(wanted):
            tracks[pk].position = position
        MohTrack.objects.bulk_update(list(tracks.values()), ["position"])
        media.publish_group_after_commit(group.pk)
    record(actor, account, "moh_group.reorder", ip, name=group.name)
    changed(account, index=IndexScope.NOTHING)
    return [tracks[pk] for pk in wanted]
