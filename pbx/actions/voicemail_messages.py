"""Voicemail messages: the mirror (pbx.models.VoicemailMessage) of what mod_voicemail keeps
on the nodes, and what people do with them.

mod_voicemail stays the owner of a message: its row in ``voicemail_msgs`` (what the phone
menu and MWI count) and the recording on the node's disk. So a change made here is a row
change plus commands for the nodes (``vm_read`` for read/unread, so the phone's message
light follows; the box-scoped ``vm_fsdb_msg_delete`` + ``vm_fsdb_msg_purge`` for a
delete, as the retention sweep does), announced with ``pbx.signals.voicemail_messages_changed``
inside the transaction: fsnodes queues them in its outbox, which commits with the row.

The mirror is fed by the node manager (fsnodes.voicemail_messages): ``record_left_message``
when a node reports ``leave-message``, ``sync_box_messages`` from a ``vm_list`` listing
(after a phone changed the box, and on a periodic reconcile, so messages left while the
manager was down appear).

People's calls take ``(account, obj, *, actor, ip=None)``: reading (list, one message, the
audio) needs the account within the actor's reach; changing needs the admin role
(``authorize``). ``actor`` None is the platform itself (the e-mail task deleting after
mail, the node manager).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from common.signals import voicemail_left
from pbx.actions.crud import authorize
from pbx.models import VoicemailBox, VoicemailMessage
from pbx.signals import voicemail_messages_changed
from tenants.actions import record
from tenants.models import Account, Role, User
from tenants.scoping import require_visible

# A message the node reported moments ago may not be in its own listing yet: mod_voicemail
# fires leave-message before it inserts the row (mod_voicemail.c deliver_vm).
LISTING_GRACE = timedelta(seconds=120)
# A message found by a reconcile (left while the manager was down) is still announced
# (e-mail, webhooks) when it is this recent; older ones only appear in the list.
LATE_NOTICE = timedelta(hours=1)
# How long a message deleted here stays deleted for the node syncs: a vm_list listing
# taken just before the node's delete would otherwise bring its row back (seen on the
# real switch: a mark-read's mwi-update sync racing the delete). Longer than the
# reconcile period; the node's delete goes out through the outbox within seconds.
TOMBSTONE_SECONDS = 3600


def _tombstone_key(account: Account, uuid: str) -> str:
    return f"vm-deleted:{account.pk}:{uuid}"
WAV = "audio/wav"


class RecordingUnavailable(Exception):
    """The message's recording cannot be served by this server. ``gone``: its file is not
    there (deleted on the node, or storage not mounted here); otherwise this server is
    not configured to reach the nodes' storage at all."""

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__(message)
        self.gone = gone


@dataclass(frozen=True)
class MessageAudio:
    """A recording to stream: a local file."""

    path: Path
    size: int
    filename: str
    content_type: str = WAV


@dataclass(frozen=True)
class ListedMessage:
    """One message as the node lists it (``vm_list``, fsnodes.voicemail_messages)."""

    uuid: str
    created_epoch: int
    read_epoch: int
    folder: str
    file_path: str
    caller_id_name: str
    caller_id_number: str
    duration: int


# --- who may ----------------------------------------------------------------------------


def _end_users_own(actor: User, account: Account, box: VoicemailBox | None) -> None:
    """An end user ("My phone") reaches only the box of the extension their login is
    bound to; any other box is absent to them (404, as another tenant's id)."""
    if box is None or box.extension_id is None or not actor.is_bound_to(account.pk, box.extension_id):
        raise VoicemailBox.DoesNotExist("No such voicemail box.")


def may_read(actor: User | None, account: Account, box: VoicemailBox | None = None) -> None:
    """Reading messages: the account is within the actor's reach (every staff role sees;
    the read-only role changes nothing); an end user, their own box only."""
    if actor is None:
        return
    require_visible(actor, account)
    if actor.role == Role.END_USER:
        _end_users_own(actor, account, box)


def may_change(actor: User | None, account: Account, box: VoicemailBox | None = None) -> None:
    """Changing messages (mark read/unread, delete): an admin of the account or above,
    or the end user whose own box it is."""
    if actor is not None and actor.role == Role.END_USER:
        require_visible(actor, account)
        _end_users_own(actor, account, box)
        return
    authorize(actor, account)


# --- reading ----------------------------------------------------------------------------


def list_messages(account: Account, box: VoicemailBox, *, actor: User | None,
                  folder: str | None = None, read: bool | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  ) -> QuerySet[VoicemailMessage]:
    """The box's messages, newest first (a lazy queryset: evaluate it inside the
    account's schema, as the API and portal do under the tenant's host)."""
    with schema_context(account.schema_name):
        may_read(actor, account, VoicemailBox.objects.filter(pk=box.pk).first())
    messages = VoicemailMessage.objects.filter(box_id=box.pk)
    if folder:
        messages = messages.filter(folder=folder)
    if read is not None:
        messages = messages.filter(read_at__isnull=not read)
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    if until is not None:
        messages = messages.filter(created_at__lt=until)
    return messages.order_by("-created_at", "-id")


def get_message(account: Account, box: VoicemailBox, uuid: str, *, actor: User | None) -> VoicemailMessage:
    """One message of the box by its uuid; VoicemailMessage.DoesNotExist otherwise."""
    with schema_context(account.schema_name):
        may_read(actor, account, VoicemailBox.objects.filter(pk=box.pk).first())
        return VoicemailMessage.objects.select_related("box").get(box_id=box.pk, uuid=uuid)


def _storage_roots() -> tuple[str, Path] | None:
    """(the nodes' recording root as they name it, the same storage as this server
    mounts it), or None when this server cannot reach the recordings."""
    node_root = getattr(settings, "VOICEMAIL_NODE_STORAGE_DIR", "") or getattr(
        settings, "VOICEMAIL_STORAGE_DIR", "")
    if not node_root:
        return None
    local_root = getattr(settings, "VOICEMAIL_LOCAL_STORAGE_DIR", "") or node_root
    return os.path.normpath(node_root), Path(local_root)


def local_path(file_path: str) -> Path:
    """Where this server reads a recording the node wrote at ``file_path``: the node's
    storage root replaced by this server's mount of it. Refuses a path outside the root
    (a listing is the node's word, but a path is never trusted to leave the storage)."""
    roots = _storage_roots()
    if roots is None:
        raise RecordingUnavailable(
            "This server does not share the voicemail storage with the FreeSWITCH nodes "
            "(VOICEMAIL_STORAGE_DIR is not set).", gone=False)
    node_root, local_root = roots
    normal = os.path.normpath(file_path)
    if not normal.startswith(node_root + os.sep):
        raise RecordingUnavailable("The recording is outside the shared voicemail storage.", gone=True)
    return local_root / os.path.relpath(normal, node_root)


def message_audio(account: Account, message: VoicemailMessage, *, actor: User | None) -> MessageAudio:
    """The message's recording as a local file to stream; RecordingUnavailable when it
    cannot be read (answer 404/410, never 500)."""
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.get(pk=message.box_id)
    may_read(actor, account, box)
    path = local_path(message.file_path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise FileNotFoundError(path)
    except OSError as exc:
        raise RecordingUnavailable("The recording is no longer on the voicemail storage.", gone=True) from exc
    if message.size != size:
        with schema_context(account.schema_name):
            VoicemailMessage.objects.filter(pk=message.pk).update(size=size)
    stamp = timezone.localtime(message.created_at).strftime("%Y%m%d-%H%M%S")
    suffix = path.suffix or ".wav"
    return MessageAudio(path=path, size=size, filename=f"voicemail-{box.number}-{stamp}{suffix}",
                        content_type=WAV if suffix.lower() == ".wav" else "application/octet-stream")


# --- changing ---------------------------------------------------------------------------


def _announce(account: Account, box: VoicemailBox, **changes: list[str]) -> None:
    voicemail_messages_changed.send(sender=VoicemailMessage, account=account,
                                    domain=account.primary_domain_name, box=box.number,
                                    **{name: changes.get(name, []) for name in ("read", "unread", "deleted")})


@transaction.atomic
def do_mark_message_read(account: Account, message: VoicemailMessage, *, actor: User | None,
                         ip: str | None = None, read: bool = True) -> VoicemailMessage:
    """Mark a message read (or unread with ``read=False``), here and on the nodes
    (``vm_read``), so the phone's message light follows."""
    with schema_context(account.schema_name):
        message = VoicemailMessage.objects.select_for_update().select_related("box").get(pk=message.pk)
        # The stored row decides whose box it is, not the instance the caller passed.
        may_change(actor, account, message.box)
        if read and message.read_at is None:
            message.read_at = timezone.now()
        elif not read:
            message.read_at = None
        message.save(update_fields=["read_at"])
        box = message.box
    record(actor, account, "voicemail.message.read" if read else "voicemail.message.unread", ip,
           box=box.number, uuid=message.uuid)
    _announce(account, box, **{"read" if read else "unread": [message.uuid]})
    return message


def do_mark_message_unread(account: Account, message: VoicemailMessage, *, actor: User | None,
                           ip: str | None = None) -> VoicemailMessage:
    return do_mark_message_read(account, message, actor=actor, ip=ip, read=False)


@transaction.atomic
def do_delete_message(account: Account, message: VoicemailMessage, *, actor: User | None,
                      ip: str | None = None) -> None:
    """Delete a message: the row here, and on the nodes the box-scoped delete + purge
    (which unlinks the recording and updates the message light)."""
    with schema_context(account.schema_name):
        message = VoicemailMessage.objects.select_for_update().select_related("box").filter(
            pk=message.pk).first()
        if message is None:
            may_change(actor, account)
            return  # already gone (a second click, the e-mail task after a person)
        may_change(actor, account, message.box)
        box, uuid = message.box, message.uuid
        # Before the row goes: a sync applying an older listing then skips it (above).
        cache.set(_tombstone_key(account, uuid), True, TOMBSTONE_SECONDS)
        message.delete()
    record(actor, account, "voicemail.message.delete", ip, box=box.number, uuid=uuid)
    _announce(account, box, deleted=[uuid])


# --- fed by the node manager ------------------------------------------------------------


def _epoch(value: int) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value > 0 else None


def _announce_left(account: Account, message: VoicemailMessage) -> None:
    transaction.on_commit(lambda: voicemail_left.send(sender=VoicemailMessage, account=account,
                                                      message=message))


@transaction.atomic
def record_left_message(account: Account, box_number: str, *, uuid: str, node: str,
                        file_path: str, created_at: datetime, duration: int = 0,
                        caller_id_name: str = "", caller_id_number: str = "",
                        folder: str = VoicemailMessage.Folder.INBOX) -> VoicemailMessage | None:
    """A node reported a message left in box ``box_number`` (``leave-message``). The row
    is made once (a repeated event, or the listing that saw it first, changes nothing)
    and ``voicemail_left`` is sent after it commits. None when the account has no such
    box (a message for a box deleted since)."""
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.filter(number=box_number).first()
        if box is None:
            return None
        message, created = VoicemailMessage.objects.get_or_create(
            box=box, uuid=uuid,
            defaults={"node": node, "file_path": file_path[:255], "created_at": created_at,
                      "duration": max(0, duration), "folder": folder[:32] or VoicemailMessage.Folder.INBOX,
                      "caller_id_name": caller_id_name[:255], "caller_id_number": caller_id_number[:64]},
        )
    if created:
        _announce_left(account, message)
    return message


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0


@transaction.atomic
def sync_box_messages(account: Account, box: VoicemailBox, listed: Iterable[ListedMessage], *,
                      node: str, now: datetime | None = None) -> SyncResult:
    """Make the box's mirror match ``node``'s listing: listed messages appear (recent
    ones announced, see LATE_NOTICE) or take the node's read state and folder; rows this
    node recorded that it no longer lists are gone (deleted from the phone, by the
    retention sweep). Rows of other nodes are left alone: without a shared message
    database a node lists only its own."""
    moment = now or timezone.now()
    created = updated = 0
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.get(pk=box.pk)
        existing = {m.uuid: m for m in VoicemailMessage.objects.select_for_update().filter(box=box)}
        seen: set[str] = set()
        for item in listed:
            seen.add(item.uuid)
            read_at = _epoch(item.read_epoch)
            folder = item.folder[:32] or VoicemailMessage.Folder.INBOX
            message = existing.get(item.uuid)
            if message is None and cache.get(_tombstone_key(account, item.uuid)):
                continue  # deleted here; the node's delete is on its way (TOMBSTONE_SECONDS)
            if message is None:
                left = _epoch(item.created_epoch) or moment
                # get_or_create: the node's leave-message may be recorded by another
                # process (the manager, a beat reconcile) at this very moment.
                message, made = VoicemailMessage.objects.get_or_create(box=box, uuid=item.uuid, defaults={
                    "node": node, "file_path": item.file_path[:255], "created_at": left,
                    "duration": max(0, item.duration), "folder": folder, "read_at": read_at,
                    "caller_id_name": item.caller_id_name[:255],
                    "caller_id_number": item.caller_id_number[:64]})
                existing[item.uuid] = message
                if made:
                    created += 1
                    if moment - left <= LATE_NOTICE:
                        _announce_left(account, message)
                continue
            # The node's read time is its own clock's; only whether it is read matters.
            if (message.read_at is None) != (read_at is None) or message.folder != folder:
                message.read_at = read_at
                message.folder = folder
                message.save(update_fields=["read_at", "folder"])
                updated += 1
        stale = [m.pk for uuid, m in existing.items()
                 if uuid not in seen and m.node == node and moment - m.created_at > LISTING_GRACE]
        removed = VoicemailMessage.objects.filter(pk__in=stale).delete()[0] if stale else 0
    return SyncResult(created, updated, removed)

