"""The two ways to be somebody in the API: ``Authorization: Bearer <API key>``, or the
session of the portal or admin, which is bound to the host it was opened on. Basic
authentication is deliberately absent: it would sign a user in on any host, skipping
that binding. Both set ``request.auth`` to the tenants.identity.Identity."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tenants.identity import Identity, KeyRefused, api_key_identity, session_identity
from tenants.models import User

BEARER = "bearer"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Identity] | None:
        scheme, _, token = authentication.get_authorization_header(request).decode(
            "latin-1").partition(" ")
        if scheme.lower() != BEARER:
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("No API key after “Bearer”.")
        try:
            identity = api_key_identity(token, getattr(request, "tenant", None))
        except KeyRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return identity.user, identity

    def authenticate_header(self, request: Request) -> str:
        # Makes unauthenticated requests 401 (with this challenge) rather than 403.
        return 'Bearer realm="api"'


class HostSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in session of this host (the portal's own pages, a browser on the
    documentation), with Django's CSRF check on every write."""

    def authenticate(self, request: Request) -> tuple[User, Identity] | None:
        user = getattr(request._request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        identity = session_identity(request._request)
        if identity is None:
            return None
        self.enforce_csrf(request)
        return identity.user, identity
