"""Which tenant a FreeSWITCH request is about — from the SIP domain or the dialed DID it
names — in one indexed query that also says whether the tenant may serve and lists its
domains."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, Substr

from common import prepared
from fsconf.cache import note_tenant
from tenants.models import Account, Domain, PhoneNumber
from tenants.validators import normalize_domain


@dataclass(frozen=True)
class Tenant:
    account: Account
    serving: bool  # active, not deleted, no suspended or deleted ancestor
    domains: tuple[str, ...]  # primary first
    trunk_owner_id: int | None  # the account whose trunks carry its outbound calls
    call_blocks: list[dict] | None = None  # from the public index; None: not indexed yet

    @property
    def primary_domain(self) -> str:
        return self.domains[0]


def blocked_ancestor(field: str) -> Exists:
    """Whether a suspended or deleted account sits above the account at ``field``; an
    ancestor's path is the leading part of the account's own path."""
    return Exists(Account.objects.filter(
        Q(status=Account.Status.SUSPENDED) | Q(deleted_at__isnull=False),
        depth__lt=OuterRef(f"{field}__depth"),
        path=Substr(OuterRef(f"{field}__path"), 1, Length("path")),
    ))


def serving_domain_names() -> list[str]:
    """Every SIP domain FreeSWITCH should know, in one query: the domains of live,
    active accounts with no suspended or deleted ancestor. The master's domains are the
    admin's hostnames, not SIP realms."""
    return list(
        Domain.objects.filter(tenant__deleted_at__isnull=True, tenant__status=Account.Status.ACTIVE)
        .exclude(tenant__kind=Account.Kind.MASTER)
        .annotate(blocked=blocked_ancestor("tenant")).filter(blocked=False)
        .order_by("domain").values_list("domain", flat=True)
    )


# The two lookups on every fetch are written in SQL: they run hundreds of times a second
# and building them through the ORM cost more than running them. Ancestors are found by
# their exact paths (the leading 4, 8, ... characters of the account's path), so the
# unique index on path answers each probe.
_ANCESTOR_PATHS = "SELECT substr(a.path, 1, 4 * g) FROM generate_series(1, a.depth - {minus}) g"
_TENANT_FACTS = f"""
    SELECT a.*,
      EXISTS (SELECT 1 FROM tenants_account b
              WHERE (b.status = 'suspended' OR b.deleted_at IS NOT NULL)
                AND b.path IN ({_ANCESTOR_PATHS.format(minus=1)})) AS blocked,
      ARRAY(SELECT d2.domain FROM tenants_domain d2 WHERE d2.tenant_id = a.id
            ORDER BY d2.is_primary DESC, d2.domain) AS all_domains,
      (SELECT o.id FROM tenants_account o
       WHERE (o.trunk_source = 'local' OR o.kind = 'master')
         AND o.path IN ({_ANCESTOR_PATHS.format(minus=0)})
       ORDER BY o.depth DESC LIMIT 1) AS trunk_owner_id,
      (SELECT f.call_blocks FROM fsconf_tenantfacts f WHERE f.account_id = a.id) AS call_blocks
"""
_BY_DOMAIN = _TENANT_FACTS + """
    FROM tenants_domain d JOIN tenants_account a ON a.id = d.tenant_id
    WHERE d.domain = %s AND a.deleted_at IS NULL
"""
_BY_NUMBER = _TENANT_FACTS + """,
      n.id AS number_id, n.route AS number_route, n.privacy_screening AS number_privacy_screening,
      n.caller_id_name AS number_caller_id_name, n.moh_group_id AS number_moh_group_id
    FROM tenants_phonenumber n JOIN tenants_account a ON a.id = n.account_id
    WHERE n.e164 = %s AND a.deleted_at IS NULL
"""


def _from_row(account: Account | None) -> Tenant | None:
    if account is None or account.is_master or not account.all_domains:
        return None
    note_tenant(account.schema_name)
    serving = account.status == Account.Status.ACTIVE and not account.blocked
    blocks = account.call_blocks
    return Tenant(account, serving, tuple(account.all_domains), account.trunk_owner_id,
                  json.loads(blocks) if isinstance(blocks, str) else blocks)


def tenant_for_domain(domain: str) -> Tenant | None:
    """The account owning ``domain``; None for unknown domains, deleted accounts and the
    master, whose domains are the admin's hostnames."""
    rows = prepared.instances(Account, _BY_DOMAIN, [normalize_domain(domain)])
    return _from_row(rows[0] if rows else None)


def tenant_for_number(e164: str) -> tuple[PhoneNumber, Tenant] | None:
    """The number and the account it is assigned to (None for unknown or pooled ones)."""
    rows = prepared.instances(Account, _BY_NUMBER, [e164])
    tenant = _from_row(rows[0] if rows else None)
    if tenant is None:
        return None
    row = rows[0]
    number = PhoneNumber(id=row.number_id, e164=e164, account=row, route=row.number_route,
                         privacy_screening=row.number_privacy_screening,
                         caller_id_name=row.number_caller_id_name, moh_group_id=row.number_moh_group_id)
    return number, tenant
