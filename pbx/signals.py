"""What the PBX model announces when it changes. FreeSWITCH-facing code (the xml_curl
cache, the event-socket command queue) listens here, so the PBX model never imports it.
What other apps announce too (platform_config_changed) is in common.signals.

Every signal is sent from an actions function *inside* its transaction: a receiver that
writes rows (a queued FreeSWITCH command) commits or rolls back with the change, and one
that must act only on durable state wraps its work in ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from django.dispatch import Signal


@dataclass(frozen=True)
class IndexScope:
    """What a PBX write changed of its account's public directory index
    (fsconf.directory_index), sent as ``tenant_config_changed``'s ``index``.

    The index is built from the extensions with their devices, voicemail box and follow-me
    (rows of kinds 0 and 1, one set per extension), the standalone voicemail boxes (kind
    2) and the call blocks (the account's facts); nothing else feeds it (schedules, ring
    groups, attendants, conference rooms, queues, media). A write names the extensions
    whose rows change (every one of them: a device moved names both extensions), whether
    standalone boxes or call blocks changed, or ``WHOLE`` (the default of a send that says
    nothing: always right, and what account-level changes use)."""

    whole: bool = False
    extensions: frozenset[int] = frozenset()  # primary keys in the tenant's schema
    boxes: bool = False  # standalone voicemail boxes (no extension)
    blocks: bool = False  # call blocks

    WHOLE: ClassVar[IndexScope]
    NOTHING: ClassVar[IndexScope]
    BOXES: ClassVar[IndexScope]
    BLOCKS: ClassVar[IndexScope]

    @classmethod
    def extension(cls, *pks: int | None) -> IndexScope:
        """The rows of these extensions (None ignored: nothing to name)."""
        return cls(extensions=frozenset(int(pk) for pk in pks if pk is not None))

    @classmethod
    def box(cls, box: Any) -> IndexScope:
        """A voicemail box's rows: its extension's, or the standalone boxes'."""
        return cls.extension(box.extension_id) if box.extension_id is not None else cls.BOXES

    @property
    def empty(self) -> bool:
        return not (self.whole or self.extensions or self.boxes or self.blocks)

    def __or__(self, other: IndexScope) -> IndexScope:
        """Both changes: never less than either (``WHOLE`` absorbs everything)."""
        if not isinstance(other, IndexScope):
            return NotImplemented
        if self.whole or other.whole:
            return IndexScope.WHOLE
        return IndexScope(extensions=self.extensions | other.extensions, boxes=self.boxes or other.boxes,
                          blocks=self.blocks or other.blocks)


IndexScope.WHOLE = IndexScope(whole=True)
IndexScope.NOTHING = IndexScope()
IndexScope.BOXES = IndexScope(boxes=True)
IndexScope.BLOCKS = IndexScope(blocks=True)


class Coalesced:
    """What a ``coalesce_changes()`` block collected: one pending send per signal and
    account, in the order first sent."""

    def __init__(self) -> None:
        self.pending: dict[tuple[int, Any], tuple[Signal, Any, dict[str, Any]]] = {}
        self.collected = 0  # sends asked for inside the block
        self.sent = 0  # sends made when it ended

    def add(self, signal: Signal, sender: Any, named: dict[str, Any]) -> None:
        self.collected += 1
        account = named.get("account")
        key = (id(signal), getattr(account, "pk", account))
        found = self.pending.get(key)
        if found is None:
            self.pending[key] = (signal, sender, dict(named))
            return
        merged = found[2]
        for name, value in named.items():
            if isinstance(value, list | tuple) and isinstance(merged.get(name), list | tuple):
                # Usernames, domains: each once, in the order first named.
                merged[name] = list(dict.fromkeys([*merged[name], *value]))
            elif isinstance(value, IndexScope) and isinstance(merged.get(name), IndexScope):
                merged[name] = merged[name] | value  # never narrower than any send
            else:
                merged[name] = value


_collecting: ContextVar[Coalesced | None] = ContextVar("pbx_coalesced_changes", default=None)


class AccountChangeSignal(Signal):
    """A change signal sent with ``account=``. Inside ``coalesce_changes()`` it is not sent
    at once: every send of the block is collected, and one per account (list arguments
    merged, index scopes joined) is sent when the block ends. ``defaults``: the arguments
    a send that omits them carries (receivers always get them, and a merge counts them)."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.defaults = dict(defaults or {})

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        named = {**self.defaults, **named}
        collecting = _collecting.get()
        if collecting is None:
            return super().send(sender, **named)
        collecting.add(self, sender, named)
        return []


@contextmanager
def coalesce_changes() -> Iterator[Coalesced]:
    """Send this module's account change signals once per account for a whole block of
    writes (a CSV import of 1,000 extensions), instead of once per write: each send
    updates the account's directory index (the union of what the writes named, once) and
    invalidates its cache. Use it *inside* the writes' transaction, as the actions would send them:
    the sends happen when the block ends normally, still inside that transaction, so the
    receivers' work commits or rolls back with the writes. A block that raises sends
    nothing (its transaction is rolled back). Nested blocks join the outermost one.

    A write undone by a savepoint inside the block still leaves its send collected; the
    receivers read the account's current state, so an extra one is only wasted work."""
    outer = _collecting.get()
    if outer is not None:
        yield outer
        return
    collected = Coalesced()
    token = _collecting.set(collected)
    try:
        yield collected
    finally:
        _collecting.reset(token)
    for signal, sender, named in collected.pending.values():
        Signal.send(signal, sender, **named)
        collected.sent += 1


# The documents FreeSWITCH fetches for this account may have changed.
# Sent with: account (tenants.Account), index (IndexScope: what changed of the account's
# directory index; WHOLE when not given). Coalesced inside coalesce_changes() (scopes joined).
tenant_config_changed = AccountChangeSignal(defaults={"index": IndexScope.WHOLE})

# These SIP credentials changed, were disabled or were removed: FreeSWITCH must forget
# what it cached for them. Always sent together with tenant_config_changed (which
# invalidates our own cache), so receivers here deal with FreeSWITCH only.
# Sent with: account, domains (list[str], primary first), usernames (list[str]), ended
# (list[str], of usernames: credentials that no longer let their phones in -- removed,
# disabled, a new secret -- whose registrations FreeSWITCH must drop).
# Coalesced inside coalesce_changes() (usernames merged).
sip_credentials_changed = AccountChangeSignal()

# mod_local_stream streams (one per hold-music group and rate, pbx.media.stream_names) to
# start, to reload (their settings changed) or to stop on every FreeSWITCH node. Sent after
# common.signals.platform_config_changed, whose receiver makes local_stream.conf current first.
# Sent with: account, start, reload, stop (lists of stream names).
moh_streams_changed = Signal()

# Voicemail boxes were deleted: FreeSWITCH keeps their messages (mod_voicemail's own
# storage) until told. Sent inside the action's transaction.
# Sent with: account, domain (the voicemail domain: the primary SIP domain), boxes (list[str]).
voicemail_boxes_deleted = Signal()

# Call queues or their agents changed (pbx.actions.queues): callcenter.conf must be built
# again and the running mod_callcenter told. Sent inside the action's transaction, after
# the change; receivers: fsconf (the document, first: it is connected first) and fsnodes
# (the commands, delivered after commit).
# Sent with: account, commands (list[str]: callcenter_config arguments, in order; pbx.queues).
callcenter_changed = Signal()

# Voicemail messages were marked read or unread, or deleted (pbx.actions.voicemail_messages):
# mod_voicemail on the nodes must do the same (its rows drive the phone menu and the
# message light). Sent inside the action's transaction; fsnodes queues the commands.
# Sent with: account, domain (the voicemail domain), box (str, the box number),
# read, unread, deleted (lists of message uuids).
voicemail_messages_changed = Signal()
