"""Who may use a tenant's portal: its own staff users, or an ancestor's admin who entered
through "Use account" (masquerade)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth import logout
from django.http import HttpRequest
from django.shortcuts import redirect

from tenants.models import Account, MasqueradeGrant, Role, User
from tenants.sessions import MASQUERADE_SESSION_KEY


@dataclass(frozen=True)
class PortalIdentity:
    user: User
    account: Account
    masquerading: bool
    return_url: str = ""


def portal_identity(request: HttpRequest) -> PortalIdentity | None:
    user, tenant = request.user, request.tenant
    if not user.is_authenticated or not user.is_active or user.account is None:
        return None
    masquerade = request.session.get(MASQUERADE_SESSION_KEY)
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
        if still_allowed:
            return PortalIdentity(user, tenant, True, masquerade.get("return_url", ""))
        return None
    if user.account_id == tenant.pk and tenant.is_effectively_active():
        return PortalIdentity(user, tenant, False)
    return None


def portal_login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        identity = portal_identity(request)
        if identity is None:
            if request.user.is_authenticated:
                # Signed in, but not for this tenant (or no longer allowed): drop it.
                logout(request)
            return redirect(f"/login/?next={request.path}")
        request.portal = identity
        return view(request, *args, **kwargs)

    return wrapper
