from __future__ import annotations

from django_tenants.middleware.main import TenantMainMiddleware


class AccountTenantMiddleware(TenantMainMiddleware):
    """Resolve the tenant from the Host header; a deleted account's domains answer 404
    exactly like unknown hosts."""

    def get_tenant(self, domain_model, hostname):
        domain = domain_model.objects.select_related("tenant").get(
            domain=hostname.lower(), tenant__deleted_at__isnull=True
        )
        return domain.tenant
