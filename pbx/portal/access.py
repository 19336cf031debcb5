"""Who may use a tenant's portal: its own staff users, or an ancestor's admin who entered
through "Use account" (masquerade)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth import logout
from django.http import HttpRequest
from django.shortcuts import redirect

from tenants.identity import session_identity
from tenants.models import Account, User
from tenants.sessions import MASQUERADE_SESSION_KEY


@dataclass(frozen=True)
class PortalIdentity:
    user: User
    account: Account
    masquerading: bool
    return_url: str = ""


def portal_identity(request: HttpRequest) -> PortalIdentity | None:
    """The session's identity on this tenant's host: the rules are tenants.identity's,
    the same the REST API applies to a session, so the two cannot drift apart."""
    identity = session_identity(request)
    if identity is None:
        return None
    masquerade = request.session.get(MASQUERADE_SESSION_KEY) or {}
    return_url = masquerade.get("return_url", "") if identity.masquerading else ""
    return PortalIdentity(identity.user, identity.account, identity.masquerading, return_url)


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
