"""The xml_curl endpoint's view of tenant resolution: tenants.tenancy's one query, with the
per-tenant facts of the public index (fsconf.models.TenantFacts: the call blocks) read in
that same query, and the tenant noted for the document cache before anything of it is
read. The resolution itself (which account, serving or not, its domains, its trunk owner)
is tenants.tenancy's alone; call control uses it directly."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fsconf.cache import note_tenant
from tenants import tenancy
from tenants.models import PhoneNumber

# One more column for the lookup that runs on every fetch, instead of a second round trip.
_INDEX_COLUMNS = """,
      (SELECT f.call_blocks FROM fsconf_tenantfacts f WHERE f.account_id = a.id) AS call_blocks"""


@dataclass(frozen=True)
class Tenant(tenancy.Tenant):
    call_blocks: list[dict] | None = None  # from the public index; None: not indexed yet


def _indexed(found: tenancy.Tenant | None) -> Tenant | None:
    if found is None:
        return None
    account = found.account
    note_tenant(account.schema_name)
    blocks = account.call_blocks
    return Tenant(account, found.serving, found.domains, found.trunk_owner_id,
                  json.loads(blocks) if isinstance(blocks, str) else blocks)


def tenant_for_domain(domain: str) -> Tenant | None:
    """tenants.tenancy.tenant_for_domain, with the index's facts."""
    return _indexed(tenancy.tenant_for_domain(domain, columns=_INDEX_COLUMNS))


def tenant_for_number(e164: str) -> tuple[PhoneNumber, Tenant] | None:
    """tenants.tenancy.tenant_for_number, with the index's facts."""
    found = tenancy.tenant_for_number(e164, columns=_INDEX_COLUMNS)
    if found is None:
        return None
    number, tenant = found
    return number, _indexed(tenant)
