"""Feeding the voicemail message mirror (pbx.models.VoicemailMessage) from the nodes.

mod_voicemail announces its work as ``CUSTOM vm::maintenance`` events (mod_voicemail.c):

* ``VM-Action: leave-message`` (deliver_vm), fired when a message is recorded, *before*
  its row is inserted in ``voicemail_msgs``: ``VM-User`` (the box), ``VM-Domain``,
  ``VM-UUID`` (the call's uuid), ``VM-File-Path``, ``VM-Message-Len`` (seconds),
  ``VM-Caller-ID-Name``/``-Number``, ``VM-Folder``, ``VM-Timestamp`` (epoch). The row here
  is made from it (``pbx.actions.voicemail_messages.record_left_message``), which sends
  ``common.signals.voicemail_left`` after commit.
* ``VM-Action: mwi-update`` (update_mwi), after every change of a box's messages: a new
  one, a read or delete or save made on the phone, a purge, our own ``vm_read``. Only
  totals travel with it (``VM-Total-New`` ...), and the phone menu fires no event per
  message read or deleted, so the box is listed again (``vm_list``) and the mirror made
  to match (``sync_box_messages``).

The node manager (fsnodes.manager, ``voicemail_messages=True``) hands each event to a
:class:`VoicemailFeed`: one greenlet per manager works them off in order (a listing never
overtakes the leave-message before it), each listing over the live connection and each
database write in a pool thread on its own connection, so the reader greenlet and the
calls on the hub never wait.

Messages left while no manager listened appear through :func:`reconcile_box` (on demand,
from the API and the portal) and :func:`reconcile_all` (Celery beat): a listing of every
box on every node.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django_tenants.utils import schema_context
from gevent.queue import Queue

from esl.client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REPLY_TIMEOUT, ESLError, InboundESL
from esl.framing import Message
from fsnodes.models import FreeswitchNode
from fsnodes.voicemail_retention import PROFILE
from pbx.actions.voicemail_messages import ListedMessage, SyncResult, record_left_message, sync_box_messages
from pbx.models import VoicemailBox
from tenants.models import Account, Domain

log = logging.getLogger(__name__)

SUBCLASS = "vm::maintenance"


class CommandClient(Protocol):  # fsnodes.manager.CommandClient (imported there, not here)
    def api(self, node: FreeswitchNode, command: str, timeout: float | None = None) -> str: ...

LISTED_ACTIONS = frozenset({"mwi-update"})


def parse_listing(text: str) -> list[ListedMessage]:
    """The messages of a text ``vm_list`` answer, one line each (api_list_callback):
    ``created:read:user:domain:folder:path:uuid:cid_name:cid_number:len``. The caller's
    name may itself hold colons, so the fields after it are taken from the end. Lines
    that are not messages (an ``-ERR``, an empty answer) are skipped."""
    found = []
    for line in text.splitlines():
        head = line.split(":", 7)
        if len(head) < 8 or not head[0].isdigit() or not head[1].isdigit():
            continue
        tail = head[7].rsplit(":", 2)
        if len(tail) < 3 or not tail[2].strip().isdigit() or not head[6]:
            continue
        found.append(ListedMessage(
            uuid=head[6], created_epoch=int(head[0]), read_epoch=int(head[1]), folder=head[4],
            file_path=head[5], caller_id_name=tail[0], caller_id_number=tail[1],
            duration=int(tail[2].strip())))
    return found


def account_of_domain(domain: str) -> Account | None:
    """The customer account whose SIP domain mod_voicemail named (the dialplan gives it the
    primary domain; an alias finds the same account)."""
    row = Domain.objects.select_related("tenant").filter(domain=domain.lower()).first()
    if row is None or row.tenant.is_deleted or row.tenant.kind != Account.Kind.CUSTOMER:
        return None
    return row.tenant


def list_command(box: str, domain: str) -> str:
    return f"vm_list {box}@{domain}/{PROFILE}"


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def on_leave_message(node: str, event: dict[str, str]) -> None:
    """A ``leave-message`` event (dict of its headers): the message's row."""
    box, domain, uuid = event.get("VM-User", ""), event.get("VM-Domain", ""), event.get("VM-UUID", "")
    account = account_of_domain(domain) if box and uuid else None
    if account is None:
        log.warning("node %s: voicemail %r for %s@%s not mirrored (no such account)", node, uuid, box, domain)
        return
    stamp = _int(event.get("VM-Timestamp"))
    record_left_message(
        account, box, uuid=uuid, node=node, file_path=event.get("VM-File-Path", ""),
        created_at=datetime.fromtimestamp(stamp, tz=UTC) if stamp else datetime.now(tz=UTC),
        duration=_int(event.get("VM-Message-Len")), folder=event.get("VM-Folder", "") or "inbox",
        caller_id_name=event.get("VM-Caller-ID-Name", ""),
        caller_id_number=event.get("VM-Caller-ID-Number", ""))


def apply_listing(node: str, domain: str, box_number: str, listing: str) -> SyncResult | None:
    """The box's mirror made to match ``node``'s listing of it."""
    if listing.lstrip().startswith("-ERR"):
        log.warning("node %s: %s answered %r", node, list_command(box_number, domain), listing.strip()[:200])
        return None
    account = account_of_domain(domain)
    if account is None:
        return None
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.filter(number=box_number).first()
    if box is None:
        return None
    return sync_box_messages(account, box, parse_listing(listing), node=node)


@dataclass(frozen=True)
class _Job:
    node: str
    api: Callable[[str], str]
    event: dict[str, str]


class VoicemailFeed:
    """The node manager's listener for ``vm::maintenance``: queues each event, and one
    greenlet works them off in order."""

    def __init__(self, run_in_thread: Callable[..., object]) -> None:
        # run_in_thread(fn, *args): fn in a pool thread with its own database connection.
        self.run_in_thread = run_in_thread
        self.queue: Queue = Queue()
        self.handled = 0  # events worked off (tests wait on it)

    def on_event(self, connection, message: Message) -> None:
        event = message.event or {}
        if event.get("Event-Subclass") != SUBCLASS:
            return
        self.queue.put(_Job(connection.name, connection.api, dict(event.items())))

    def run(self) -> None:
        while True:
            job = self.queue.get()
            try:
                self.handle(job)
            except Exception:
                log.exception("node %s: voicemail event %r not mirrored", job.node,
                              job.event.get("VM-Action"))
            finally:
                self.handled += 1

    def handle(self, job: _Job) -> None:
        action = job.event.get("VM-Action", "")
        if action == "leave-message":
            self.run_in_thread(on_leave_message, job.node, job.event)
        elif action in LISTED_ACTIONS:
            box, domain = job.event.get("VM-User", ""), job.event.get("VM-Domain", "")
            if not box.isdigit() or not domain or any(ch.isspace() or ch in "@/" for ch in domain):
                return
            try:
                listing = job.api(list_command(box, domain))
            except ESLError as exc:
                log.warning("node %s: cannot list voicemail box %s@%s: %s", job.node, box, domain, exc)
                return
            self.run_in_thread(apply_listing, job.node, domain, box, listing)


def reconcile_box(account: Account, box: VoicemailBox, client: CommandClient) -> int:
    """List ``box`` on every enabled node now and make the mirror match; returns how many
    nodes answered. Used on demand (a person opening the box); ``client`` is
    ``fsnodes.manager.get_client()`` (the live connections, or one-shot sessions)."""
    domain = account.primary_domain_name
    answered = 0
    for node in FreeswitchNode.objects.filter(enabled=True).order_by("pk"):
        try:
            listing = client.api(node, list_command(box.number, domain))
        except ESLError as exc:
            log.warning("node %s: cannot list voicemail box %s@%s: %s", node.name, box.number, domain, exc)
            continue
        if apply_listing(node.name, domain, box.number, listing) is not None:
            answered += 1
    return answered


def reconcile_node(node: FreeswitchNode, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                   reply_timeout: float = DEFAULT_REPLY_TIMEOUT) -> int:
    """Every customer box on ``node``, over one session; returns the boxes synced."""
    from fsnodes.voicemail_retention import boxes

    password = node.esl_password
    if password is None:
        log.warning("voicemail reconcile: %s's ESL password cannot be decrypted", node)
        return 0
    synced = 0
    try:
        with InboundESL(node.host, node.esl_port, password,
                        connect_timeout=connect_timeout, reply_timeout=reply_timeout) as esl:
            for box in boxes():
                listing = esl.api(list_command(box.number, box.domain))
                if listing.startswith("-ERR"):
                    log.warning("voicemail reconcile: %s answered %r", node, listing.strip())
                    return synced
                if apply_listing(node.name, box.domain, box.number, listing) is not None:
                    synced += 1
    except ESLError as exc:
        log.warning("voicemail reconcile: cannot list messages on %s: %s", node, exc)
    return synced


def reconcile_all(**timeouts: float) -> int:
    """One pass over every enabled node (Celery beat). Returns the boxes synced."""
    return sum(reconcile_node(node, **timeouts)
               for node in FreeswitchNode.objects.filter(enabled=True).order_by("pk"))

