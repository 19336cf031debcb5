"""What every PBX write does besides its own work."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from pbx.models import Device, Extension
from pbx.signals import IndexScope, sip_credentials_changed, tenant_config_changed
from tenants.models import Account


def changed(account: Account, usernames: list[str] | None = None, *,
            index: IndexScope = IndexScope.WHOLE, ended: list[str] | None = None) -> None:
    """Announce a write: what FreeSWITCH fetches for ``account`` may have changed,
    ``index`` says what of its directory index (pbx.signals.IndexScope; the whole by
    default, always right), ``usernames`` whose SIP credentials, ``ended`` those of them
    that no longer let a phone in as it did (removed, disabled, a new secret): their
    phones' registrations are dropped."""
    tenant_config_changed.send(sender=Extension, account=account, index=index)
    if usernames:
        sip_credentials_changed.send(
            sender=Device, account=account, usernames=usernames, ended=list(ended or ()),
            domains=list(account.domains.order_by("-is_primary", "domain").values_list("domain", flat=True)),
        )


def only(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: ["This field cannot be set here."] for name in unknown})
