"""Requests per API key (or per signed-in user) within a sliding window: beyond it, 429
with Retry-After. It counts what passed the checkpoint: a request without a valid key
is refused (401) before, at the cost of one indexed lookup; the public OpenAPI document
and its viewers are not counted."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tenants.identity import Identity


class IdentityRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        # Read per request rather than once at import, so a deployment (or a test) sets it
        # like any other setting.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str | None:
        identity = request.auth
        if not isinstance(identity, Identity):
            return None  # the public document and its viewers: nobody to count
        return f"api-throttle:{identity.throttle_key}"
