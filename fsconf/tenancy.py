"""Which tenant a FreeSWITCH request is about — from the SIP domain or the dialed DID it
names — in one indexed query that also says whether the tenant may serve and lists its
domains."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Length, Substr

from carriers.routing import trunk_owner
from fsconf.cache import note_tenant
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


def _with_tenant_facts(rows: QuerySet, field: str) -> QuerySet:
    """Annotate rows that point at an account (through ``field``) with whether an
    ancestor blocks it and with the account's domains."""
    return rows.select_related(field).filter(**{f"{field}__deleted_at__isnull": True}).annotate(
        blocked=blocked_ancestor(field),
        trunk_owner_id=trunk_owner(field),
        all_domains=ArraySubquery(
            Domain.objects.filter(tenant=OuterRef(field))
            .order_by("-is_primary", "domain").values("domain")
        ),
    )


def _tenant(row, field: str) -> Tenant | None:
    if row is None:
        return None
    account = getattr(row, field)
    if account is None or account.is_master or not row.all_domains:
        return None
    note_tenant(account.schema_name)
    serving = account.status == Account.Status.ACTIVE and not row.blocked
    return Tenant(account, serving, tuple(row.all_domains), row.trunk_owner_id)


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


def tenant_for_domain(domain: str) -> Tenant | None:
    """The account owning ``domain``; None for unknown domains, deleted accounts and the
    master, whose domains are the admin's hostnames."""
    rows = _with_tenant_facts(Domain.objects.filter(domain=normalize_domain(domain)), "tenant")
    return _tenant(rows.first(), "tenant")


def tenant_for_number(e164: str) -> tuple[PhoneNumber, Tenant] | None:
    """The number and the account it is assigned to (None for unknown or pooled ones)."""
    rows = _with_tenant_facts(
        PhoneNumber.objects.filter(e164=e164, account__isnull=False), "account"
    )
    number = rows.first()
    tenant = _tenant(number, "account")
    return (number, tenant) if tenant else None
