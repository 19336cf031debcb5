"""SIP password guessing: count authentication failures per SIP user and per source
address, and block either for a while (``fsnodes.models.AuthBlock``).

Where failures come from: sofia fires ``CUSTOM sofia::register_failure`` whenever it
answers a digest with 403 (sofia_reg.c, sofia_reg_handle_register_token: a wrong
password, or a user our directory did not find), for REGISTER and for INVITE
(``registration-type``), with ``to-user``, ``to-host``, ``network-ip``, ``network-port``,
``user-agent`` and ``profile-name``. A challenge (401 without credentials) fires nothing.
The node manager subscribes to it when it runs the guard (``NodeManager(guard_auth=True)``,
as ``manage.py run_callcontrol`` does), and this guard counts in memory: every
call-control process is connected to every node and sees every failure, so each one's
count is the whole count; the block itself is written once (an advisory lock per key).

What a block does: the directory (``fsconf.sections.directory``) answers not-found to
the ``sip_auth`` lookups it covers -- the blocked user's, or any from the blocked address
-- so sofia answers 403 whatever the password. Lookups that ring the user (``user_call``)
are not refused: a guesser must not be able to stop a user's calls. Failures of a key
already blocked are not counted (its own refusals would renew it for ever).

Every failure and every block start and end is logged on ``fsnodes.auth_guard`` in a
fixed shape fail2ban can match (deploy/README.md); block start and end are audited.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from fsnodes.models import AuthBlock
from tenants.actions import record
from tenants.models import Account, Role, User
from tenants.scoping import NotInSubtree, require_visible
from tenants.tenancy import tenant_for_domain
from tenants.validators import normalize_domain

log = logging.getLogger("fsnodes.auth_guard")

SUBCLASS = "sofia::register_failure"

# Sent inside the block's transaction when a block starts or ends, with kind and account
# (None for an address). fsconf listens: a user block bumps its tenant's cache
# generation, an address block the platform's, so no cached answer outlives the change
# while a warm fetch still reads no database.
auth_blocks_changed = Signal()


@dataclass
class SlidingCounter:
    """Failures per key within the last ``window`` seconds."""

    window: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[tuple, deque[float]] = field(default_factory=dict)

    def add(self, key: tuple) -> int:
        now = self.clock()
        times = self._seen.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        return len(times)

    def forget(self, key: tuple) -> None:
        self._seen.pop(key, None)

    def prune(self) -> None:
        """Drop keys whose failures have all left the window (bounded memory)."""
        horizon = self.clock() - self.window
        for key in [k for k, times in self._seen.items() if not times or times[-1] <= horizon]:
            del self._seen[key]


@dataclass(frozen=True)
class Failure:
    user: str
    host: str
    address: str
    method: str
    profile: str
    user_agent: str

    @classmethod
    def from_event(cls, event: dict[str, str]) -> Failure | None:
        if event.get("Event-Name") != "CUSTOM" or event.get("Event-Subclass") != SUBCLASS:
            return None
        address = event.get("network-ip", "").strip()
        try:
            ipaddress.ip_address(address)
        except ValueError:
            log.warning("sip auth failure event without a usable network-ip: %r", address[:64])
            return None
        return cls(user=event.get("to-user", "").strip()[:100],
                   host=normalize_domain(event.get("to-host", "")),
                   address=address, method=event.get("registration-type", "REGISTER")[:16],
                   profile=event.get("profile-name", "")[:64], user_agent=event.get("user-agent", "")[:200])


class AuthGuard:
    """Feed it events (``on_event``, a node manager listener); it starts blocks."""

    def __init__(self, *, user_failures: int | None = None, address_failures: int | None = None,
                 window: float | None = None, block_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.user_failures = user_failures or settings.SIP_AUTH_USER_FAILURES
        self.address_failures = address_failures or settings.SIP_AUTH_ADDRESS_FAILURES
        self.block_seconds = block_seconds or settings.SIP_AUTH_BLOCK_SECONDS
        self.counter = SlidingCounter(window or settings.SIP_AUTH_WINDOW_SECONDS, clock)
        # Addresses many phones share (an SBC or proxy in front of FreeSWITCH, an office's
        # NAT): their failures count per user only, never against the address.
        self.trusted = [ipaddress.ip_network(net, strict=False)
                        for net in getattr(settings, "SIP_AUTH_TRUSTED_NETWORKS", [])]
        self.clock = clock
        # Keys blocked by this process, until when (its own clock): their failures are
        # the block's refusals and are not counted.
        self._blocked: dict[tuple, float] = {}
        # Events are handled in pool threads: one failure at a time.
        self._lock = threading.Lock()

    def on_event(self, node_connection, message) -> None:
        failure = Failure.from_event(message.event or {})
        if failure is not None:
            self.record(failure)

    def record(self, failure: Failure) -> list[AuthBlock]:
        with self._lock:
            return self._record(failure)

    def _record(self, failure: Failure) -> list[AuthBlock]:
        log.warning("sip auth failure: user %s@%s from %s (%s, profile %s)", failure.user or "-",
                    failure.host or "-", failure.address, failure.method, failure.profile or "-")
        started = []
        now = self.clock()
        address_key = ("address", failure.address)
        trusted = any(ipaddress.ip_address(failure.address) in net for net in self.trusted)
        if not trusted and self._blocked.get(address_key, 0) <= now:
            count = self.counter.add(address_key)
            if count >= self.address_failures:
                block = start_address_block(failure.address, count, self.block_seconds)
                started.append(block)
                self._blocked[address_key] = now + self.block_seconds
                self.counter.forget(address_key)
        # Per user of an account: its domain and aliases, in any case, are one realm.
        tenant = tenant_for_domain(failure.host) if failure.user and failure.host else None
        if tenant is not None:
            user_key = ("user", tenant.account.pk, failure.user)
            if self._blocked.get(user_key, 0) <= now:
                count = self.counter.add(user_key)
                if count >= self.user_failures:
                    started.append(start_user_block(tenant.account, failure.user, failure.host,
                                                    failure.address, count, self.block_seconds))
                    self._blocked[user_key] = now + self.block_seconds
                    self.counter.forget(user_key)
        return started

    def housekeeping(self) -> int:
        """Periodic: end expired blocks (and forget stale counts)."""
        with self._lock:
            self.counter.prune()
            now = self.clock()
            for key in [k for k, until in self._blocked.items() if until <= now]:
                del self._blocked[key]
        return end_expired_blocks()


def _lock(key: str) -> None:
    """Several call-control processes see the same failure: one block per key."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"authblock:{key}"])


def live_blocks():
    return AuthBlock.objects.filter(cleared_at__isnull=True, expires_at__gt=timezone.now())


@transaction.atomic
def start_address_block(address: str, failures: int, seconds: float) -> AuthBlock:
    _lock(f"address:{address}")
    existing = live_blocks().filter(kind=AuthBlock.Kind.ADDRESS, address=address).first()
    if existing is not None:
        return existing
    block = AuthBlock.objects.create(kind=AuthBlock.Kind.ADDRESS, address=address, failures=failures,
                                     expires_at=timezone.now() + timedelta(seconds=seconds))
    log.warning("sip auth block: address %s blocked for %d s after %d failures", address, seconds, failures)
    record(None, None, "sip_auth.block", None, name="platform", kind="address", address=address,
           failures=failures, seconds=seconds)
    auth_blocks_changed.send(AuthBlock, kind=AuthBlock.Kind.ADDRESS, account=None)
    return block


@transaction.atomic
def start_user_block(account: Account, user: str, host: str, address: str, failures: int,
                     seconds: float) -> AuthBlock:
    _lock(f"user:{account.pk}:{user}")
    existing = live_blocks().filter(kind=AuthBlock.Kind.USER, account=account, user_id=user).first()
    if existing is not None:
        return existing
    block = AuthBlock.objects.create(kind=AuthBlock.Kind.USER, account=account, user_id=user, domain=host,
                                     address=address, failures=failures,
                                     expires_at=timezone.now() + timedelta(seconds=seconds))
    log.warning("sip auth block: user %s@%s blocked for %d s after %d failures, last from %s",
                user, host, seconds, failures, address)
    record(None, account, "sip_auth.block", None, kind="user", user=user, domain=host, address=address,
           failures=failures, seconds=seconds)
    auth_blocks_changed.send(AuthBlock, kind=AuthBlock.Kind.USER, account=account)
    return block


def _end(block: AuthBlock, by: str, actor: User | None, ip: str | None) -> None:
    block.cleared_at = timezone.now() if by != "expired" else block.expires_at
    block.cleared_by = by
    block.save(update_fields=["cleared_at", "cleared_by"])
    who = (f"user {block.user_id}@{block.domain}" if block.kind == AuthBlock.Kind.USER
           else f"address {block.address}")
    log.warning("sip auth unblock: %s (%s)", who, by)
    record(actor, block.account, "sip_auth.unblock", ip, name="platform" if block.account is None else "",
           kind=block.kind, user=block.user_id, domain=block.domain,
           address=str(block.address or ""), ended=by)
    auth_blocks_changed.send(AuthBlock, kind=block.kind, account=block.account)


@transaction.atomic
def end_expired_blocks() -> int:
    expired = list(AuthBlock.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(cleared_at__isnull=True, expires_at__lte=timezone.now())
                   .select_related("account"))
    for block in expired:
        _end(block, "expired", None, None)
    return len(expired)


def _is_master_staff(actor: User) -> bool:
    return actor.account is not None and actor.account.is_master


def may_see_block(actor: User, block: AuthBlock) -> bool:
    """Address blocks span tenants: master staff only. A user block: the staff of its
    account (its own admins clear their users' blocks) or of an account above it."""
    if block.kind == AuthBlock.Kind.ADDRESS:
        return _is_master_staff(actor)
    try:
        require_visible(actor, block.account)
    except NotInSubtree:
        return False
    return True


@transaction.atomic
def do_clear_auth_block(actor: User, block: AuthBlock, ip: str | None = None) -> AuthBlock:
    """An admin ends a block now (the phone's owner has fixed the password)."""
    if not may_see_block(actor, block):
        raise NotInSubtree
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Your role is read-only.")
    block = AuthBlock.objects.select_for_update(of=("self",)).select_related("account").get(pk=block.pk)
    if block.cleared_at is None:
        _end(block, actor.username, actor, ip)
    return block


def blocks_visible_to(actor: User):
    """The blocks an admin may see: every one for master staff, else the user blocks of
    their account and the accounts below it."""
    blocks = AuthBlock.objects.select_related("account")
    if _is_master_staff(actor):
        return blocks
    if actor.account is None:
        return blocks.none()
    return blocks.filter(kind=AuthBlock.Kind.USER,
                         account__in=Account.objects.subtree_of(actor.account))
