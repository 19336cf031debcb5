"""section=directory."""

from __future__ import annotations

from lxml import etree

from fsconf.documents import NOT_FOUND, new_document, serialize
from fsconf.request import FetchRequest
from tenants.models import Account, Domain


def answer(fetch: FetchRequest) -> bytes:
    if fetch.get("purpose") == "gateways":
        return gateway_domains()
    return NOT_FOUND


def serving_domains() -> list[str]:
    """Every SIP domain FreeSWITCH should know: the domains of live accounts that are
    active and have no suspended or deleted ancestor. The master's domains are the
    admin's hostnames, not SIP realms."""
    accounts = Account.objects.exclude(kind=Account.Kind.MASTER).values_list(
        "pk", "path", "status", "deleted_at"
    )
    blocked = [path for _, path, status, deleted in accounts
               if status != Account.Status.ACTIVE or deleted is not None]
    serving = [pk for pk, path, _, _ in accounts if not any(path.startswith(b) for b in blocked)]
    return list(
        Domain.objects.filter(tenant_id__in=serving).order_by("domain").values_list("domain", flat=True)
    )


def gateway_domains() -> bytes:
    """``purpose=gateways``: sofia asks for every domain at profile start; with
    ``<domain name="all" alias="true"/>`` each becomes an alias of the profile."""
    root, section = new_document("directory")
    for name in serving_domains():
        etree.SubElement(section, "domain", name=name)
    return serialize(root)
