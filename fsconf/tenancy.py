"""Which tenant a FreeSWITCH request is about, from the SIP domain it names."""

from __future__ import annotations

from tenants.models import Account, Domain


def serving_account(domain: str) -> Account | None:
    """The account owning ``domain`` if it may serve calls now: not the master (its
    domains are admin hostnames), not deleted, and neither it nor an ancestor suspended."""
    row = (
        Domain.objects.select_related("tenant")
        .filter(domain=domain.strip().lower(), tenant__deleted_at__isnull=True)
        .first()
    )
    if row is None or row.tenant.is_master or not row.tenant.is_effectively_active():
        return None
    return row.tenant
