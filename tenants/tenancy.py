"""Which tenant a SIP domain or a dialed DID belongs to, in one indexed query that also says
whether the tenant may serve, lists its domains and finds the account whose trunks carry
its calls. The one tenant resolution for everything that meets a domain or a DID: the
xml_curl endpoint (fsconf.tenancy, which reads its public index's facts in the same query)
and call control (callcontrol.session)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, Substr

from common import prepared
from tenants.models import Account, Domain, PhoneNumber
from tenants.validators import normalize_domain


@dataclass(frozen=True)
class Tenant:
    account: Account
    serving: bool  # active, not deleted, no suspended or deleted ancestor
    domains: tuple[str, ...]  # primary first
    trunk_owner_id: int | None  # the account whose trunks carry its outbound calls

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
       ORDER BY o.depth DESC LIMIT 1) AS trunk_owner_id"""
_FROM_DOMAIN = """
    FROM tenants_domain d JOIN tenants_account a ON a.id = d.tenant_id
    WHERE d.domain = %s AND a.deleted_at IS NULL
"""
_NUMBER_COLUMNS = """,
      n.id AS number_id, n.route AS number_route, n.privacy_screening AS number_privacy_screening,
      n.caller_id_name AS number_caller_id_name, n.moh_group_id AS number_moh_group_id"""
_FROM_NUMBER = """
    FROM tenants_phonenumber n JOIN tenants_account a ON a.id = n.account_id
    WHERE n.e164 = %s AND a.deleted_at IS NULL
"""
_BY_DOMAIN = _TENANT_FACTS + _FROM_DOMAIN
_BY_NUMBER = _TENANT_FACTS + _NUMBER_COLUMNS + _FROM_NUMBER


def _from_row(account: Account | None) -> Tenant | None:
    if account is None or account.is_master or not account.all_domains:
        return None
    serving = account.status == Account.Status.ACTIVE and not account.blocked
    return Tenant(account, serving, tuple(account.all_domains), account.trunk_owner_id)


def tenant_for_domain(domain: str, *, columns: str = "") -> Tenant | None:
    """The account owning ``domain``; None for unknown domains, deleted accounts and the
    master, whose domains are the admin's hostnames.

    ``columns``: more select-list items for the same query (``", <expr> AS <name>"``, over
    the account row ``a``), which arrive as attributes of ``Tenant.account``. A constant:
    each text is one prepared statement. The xml_curl endpoint reads its public index's
    per-tenant facts this way rather than in a second round trip (fsconf.tenancy)."""
    sql = _TENANT_FACTS + columns + _FROM_DOMAIN
    rows = prepared.instances(Account, sql, [normalize_domain(domain)])
    return _from_row(rows[0] if rows else None)


def tenant_for_number(e164: str, *, columns: str = "") -> tuple[PhoneNumber, Tenant] | None:
    """The number and the account it is assigned to (None for unknown or pooled ones);
    ``columns`` as for :func:`tenant_for_domain`."""
    rows = prepared.instances(Account, _TENANT_FACTS + columns + _NUMBER_COLUMNS + _FROM_NUMBER, [e164])
    tenant = _from_row(rows[0] if rows else None)
    if tenant is None:
        return None
    row = rows[0]
    number = PhoneNumber(id=row.number_id, e164=e164, account=row, route=row.number_route,
                         privacy_screening=row.number_privacy_screening,
                         caller_id_name=row.number_caller_id_name, moh_group_id=row.number_moh_group_id)
    return number, tenant
