"""Requests per API key (or per signed-in user, or per address before anyone is known)
within a sliding window: beyond it, 429 with Retry-After."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tenants.http import client_ip
from tenants.identity import Identity


class IdentityRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        # Read per request rather than once at import, so a deployment (or a test) sets it
        # like any other setting.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str:
        identity = request.auth
        who = identity.throttle_key if isinstance(identity, Identity) else f"ip:{client_ip(request)}"
        return f"api-throttle:{who}"
