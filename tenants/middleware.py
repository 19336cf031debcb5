from __future__ import annotations

from django.conf import settings
from django.db import connection
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.validators import normalize_domain

# FreeSWITCH's requests name their tenant in the body; they skip the hostname lookup.
FREESWITCH_PREFIX = "/freeswitch/"


class AccountTenantMiddleware(TenantMainMiddleware):
    """Resolve the tenant from the Host header; a deleted account's domains answer 404
    exactly like unknown hosts."""

    def process_request(self, request):
        if request.path_info.startswith(FREESWITCH_PREFIX):
            connection.set_schema_to_public()
            request.tenant = None
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return None
        return super().process_request(request)

    def get_tenant(self, domain_model, hostname):
        domain = domain_model.objects.select_related("tenant").get(
            domain=normalize_domain(hostname), tenant__deleted_at__isnull=True
        )
        return domain.tenant
