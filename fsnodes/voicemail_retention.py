"""Voicemail retention: messages older than their box's ``keep_days`` are deleted.

mod_voicemail keeps its own message index (table ``voicemail_msgs``, in a SQLite file per
node or in the database named by ``odbc-dsn``) and the recordings on the node's disk, so
the deleting is done by FreeSWITCH, over the inbound event socket, one node at a time:

1. ``vm_list <box>@<domain>/default`` lists a box's messages, one line each:
   ``created_epoch:read_epoch:username:domain:in_folder:file_path:uuid:cid_name:cid_number:message_len``
   (mod_voicemail.c ``api_list_callback``; cid_name may itself hold colons).
2. For each message older than the box keeps them:
   ``vm_fsdb_msg_delete default <domain> <box> <uuid>`` flags it (scoped to that box and
   domain; ``vm_delete <box>@<domain> <uuid>`` would delete by uuid alone, and a call's uuid
   is shared by every copy it delivered, in other boxes too), then
   ``vm_fsdb_msg_purge default <domain> <box>`` removes the flagged rows and unlinks their
   files (rows whose file is not on that node are left for the node that has it).

The listing is read at once (it is a read); the deletions go through the node outbox
(fsnodes.queue) so they survive a broken connection and are retried, and both commands
are idempotent as the outbox requires. Each node is asked about its own messages, which
is right whether nodes share the message database or not.

The domain is the account's primary domain, which the dialplan gives mod_voicemail as
the voicemail domain (``voicemail default <domain> <box>``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django_tenants.utils import schema_context

from esl.client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REPLY_TIMEOUT, ESLError, InboundESL
from fsnodes.models import FreeswitchNode
from fsnodes.queue import enqueue_many
from pbx.models import VoicemailBox
from tenants.models import Account

log = logging.getLogger(__name__)

PROFILE = "default"
DAY_SECONDS = 24 * 3600
_UUID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{7,63}$")
_BOX = re.compile(r"^\d{3,6}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


@dataclass(frozen=True)
class Box:
    domain: str
    number: str
    keep_days: int


@dataclass(frozen=True)
class Message:
    created_epoch: int
    uuid: str


def boxes() -> list[Box]:
    """Every voicemail box of every customer account that is not deleted (suspended
    accounts' messages age too)."""
    found: list[Box] = []
    accounts = (Account.objects.filter(kind=Account.Kind.CUSTOMER, deleted_at__isnull=True)
                .prefetch_related("domains").order_by("pk"))
    for account in accounts:
        domain = account.primary_domain_name
        if not _DOMAIN.match(domain):
            continue
        with schema_context(account.schema_name):
            rows = VoicemailBox.objects.order_by("number").values_list("number", "keep_days")
            found += [Box(domain, number, keep_days) for number, keep_days in rows]
    return found


def parse_vm_list(text: str) -> list[Message]:
    """The messages of a ``vm_list`` answer (text format); lines that are not message
    lines (an ``-ERR``, a usage text) are skipped."""
    messages = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 10 or not fields[0].isdigit() or not _UUID.match(fields[6]):
            continue
        messages.append(Message(int(fields[0]), fields[6]))
    return messages


def expired_commands(box: Box, listing: str, now: datetime) -> list[str]:
    """The commands that delete ``box``'s messages older than its keep_days."""
    if not (_BOX.match(box.number) and _DOMAIN.match(box.domain)):
        return []
    cutoff = now.timestamp() - box.keep_days * DAY_SECONDS
    old = [m.uuid for m in parse_vm_list(listing) if m.created_epoch < cutoff]
    if not old:
        return []
    return [*(f"vm_fsdb_msg_delete {PROFILE} {box.domain} {box.number} {uuid}" for uuid in old),
            f"vm_fsdb_msg_purge {PROFILE} {box.domain} {box.number}"]


def sweep_node(node: FreeswitchNode, found: list[Box], now: datetime, *,
               connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
               reply_timeout: float = DEFAULT_REPLY_TIMEOUT) -> int:
    """List ``node``'s messages of every box and queue the deletions. Returns how many
    commands were queued; 0 when the node could not be asked (tried again next sweep)."""
    password = node.esl_password
    if password is None:
        log.warning("voicemail retention: %s's ESL password cannot be decrypted", node)
        return 0
    commands: list[str] = []
    try:
        with InboundESL(node.host, node.esl_port, password,
                        connect_timeout=connect_timeout, reply_timeout=reply_timeout) as esl:
            for box in found:
                listing = esl.api(f"vm_list {box.number}@{box.domain}/{PROFILE}")
                if listing.startswith("-ERR"):
                    # No voicemail profile (mod_voicemail not loaded or misconfigured):
                    # every other box would answer the same.
                    log.warning("voicemail retention: %s answered %r", node, listing.strip())
                    return 0
                commands += expired_commands(box, listing, now)
    except ESLError as exc:
        log.warning("voicemail retention: cannot list messages on %s: %s", node, exc)
        return 0
    if commands:
        enqueue_many(commands, nodes=[node])
    return len(commands)


def sweep(*, now: datetime | None = None, **timeouts: float) -> int:
    """One retention pass over every enabled node. Returns the commands queued."""
    from fsnodes.nodes import sync_configured_nodes

    sync_configured_nodes()
    moment = now or timezone.now()
    found = boxes()
    if not found:
        return 0
    return sum(sweep_node(node, found, moment, **timeouts)
               for node in FreeswitchNode.objects.filter(enabled=True).order_by("pk"))
