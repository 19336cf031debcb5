"""Sessions belong to the host they were opened on.

Session rows are shared (public schema) and a session id means the same user on every
host, so a session opened on one tenant's portal must not be replayable on another
tenant's host or on the admin host. At sign-in the session records its tenant; a request
on any other tenant's host is treated as signed out.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_TENANT_KEY = "switchboard.tenant"
MASQUERADE_SESSION_KEY = "switchboard.masquerade"


@receiver(user_logged_in)
def bind_session_to_tenant(sender, request, user, **kwargs) -> None:
    tenant = getattr(request, "tenant", None) if request is not None else None
    if tenant is not None:
        request.session[SESSION_TENANT_KEY] = tenant.pk


class SessionTenantBindingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and request.user.is_authenticated
            and request.session.get(SESSION_TENANT_KEY) != tenant.pk
        ):
            logout(request)
        return self.get_response(request)
