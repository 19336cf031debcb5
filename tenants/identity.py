"""Who is asking: (user, account, role), resolved once per request from the session bound
to the host or from an API key bound to one account. The REST API resolves it here, and
the portal can too, so every entry point means the same thing by "signed in as".

``Identity.account`` is the root of what the identity reaches: that account and every
live account below it. Anything else is absent (the callers answer 404, exactly like an
id that does not exist), never forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone

from tenants.models import Account, ApiKey, MasqueradeGrant, Role, User
from tenants.scoping import NotInSubtree
from tenants.sessions import MASQUERADE_SESSION_KEY

# last_used_at is written at most this often per key: a busy key would otherwise cost a
# write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Identity:
    user: User
    # The root of what this identity reaches.
    account: Account
    role: str
    # Nothing may be written: the user's role is read-only, or the key is.
    read_only: bool
    api_key: ApiKey | None = None
    # An ancestor's admin using this account's portal ("Use account").
    masquerading: bool = False

    @property
    def throttle_key(self) -> str:
        return f"key:{self.api_key.pk}" if self.api_key else f"user:{self.user.pk}"

    def accounts(self):
        """Every live account this identity reaches."""
        return Account.objects.live().subtree_of(self.account)

    def reaches(self, account: Account) -> bool:
        return not account.is_deleted and account.is_within(self.account)

    def account_named(self, pk) -> Account:
        """The reachable account with this primary key; NotInSubtree (a DoesNotExist)
        for anything else, whether it exists elsewhere or not at all."""
        try:
            return self.accounts().get(pk=int(pk))
        except (Account.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
            raise NotInSubtree from exc


def _identity(user: User, account: Account, *, api_key: ApiKey | None = None,
              masquerading: bool = False) -> Identity:
    # An end user writes only their own phone's settings, through the My phone pages;
    # to every admin face (API, admin pages) they are read-only at most.
    read_only = (user.role in (Role.READ_ONLY, Role.END_USER)
                 or (api_key is not None and api_key.read_only))
    return Identity(user, account, user.role, read_only, api_key, masquerading)


def _is_provider_host(tenant: Account | None) -> bool:
    """The master's domains serve the admin: staff of any account sign in there."""
    return tenant is None or tenant.is_master


def session_identity(request: HttpRequest) -> Identity | None:
    """The identity of a signed-in session on this host (the session is already bound to
    its host: tenants.sessions), or None.

    On the provider's host: staff who may use the admin, for their own account. On a
    tenant's host: its own staff, or an ancestor's admin who entered through "Use
    account" for as long as that grant stands."""
    user = request.user
    tenant: Account | None = getattr(request, "tenant", None)
    if not user.is_authenticated or not user.is_active or user.account is None:
        return None
    masquerade = request.session.get(MASQUERADE_SESSION_KEY)
    if _is_provider_host(tenant):
        if masquerade or not user.may_use_admin or user.account.is_deleted:
            return None
        return _identity(user, user.account) if user.account.is_effectively_active() else None
    if masquerade and masquerade.get("account_id") == tenant.pk:
        still_allowed = (
            user.role == Role.ADMIN
            and tenant.is_within(user.account)
            and not tenant.is_deleted
            and user.account.is_effectively_active()
            and MasqueradeGrant.objects.filter(
                pk=masquerade.get("grant_id"), user=user, account=tenant, ended_at__isnull=True
            ).exists()
        )
        return _identity(user, tenant, masquerading=True) if still_allowed else None
    if user.account_id == tenant.pk and tenant.is_effectively_active():
        return _identity(user, tenant)
    return None


class KeyRefused(Exception):
    """The token names no usable key here; the message says why, in terms safe to show
    the caller (nothing about other tenants)."""


def api_key_identity(token: str, tenant: Account | None) -> Identity:
    """The identity an API key gives on this host (``tenant``: the host's account).

    On the provider's host a key reaches its account's subtree; on a tenant's host only
    that tenant's, and only a key of the tenant or of an account above it works there
    (another tenant's key is refused on this host like an unknown one)."""
    key = ApiKey.objects.matching(token)
    if key is None:
        raise KeyRefused("Invalid API key.")
    now = timezone.now()
    if key.revoked_at is not None:
        raise KeyRefused("This API key has been revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRefused("This API key has expired.")
    user, account = key.user, key.account
    if not user.is_active or user.account_id != account.pk:
        raise KeyRefused("This API key's user is disabled.")
    if account.is_deleted or not account.is_effectively_active():
        raise KeyRefused("This API key's account is suspended.")
    root = account
    if not _is_provider_host(tenant):
        if tenant.is_deleted or not tenant.is_within(account):
            raise KeyRefused("Invalid API key.")
        root = tenant
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return _identity(user, root, api_key=key)
