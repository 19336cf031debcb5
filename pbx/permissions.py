"""What an extension may dial, as the directory tells FreeSWITCH (``toll_allow``) and
as routing checks it."""

from __future__ import annotations

from carriers.routing import Caller
from pbx.models import Extension
from pbx.models.extensions import CallPermission
from tenants.models import Account

TOLL_ALLOW = {
    CallPermission.INTERNAL: "",
    CallPermission.LOCAL: "local",
    CallPermission.DOMESTIC: "local,domestic",
    CallPermission.INTERNATIONAL: "local,domestic,international",
}


def toll_allow(account: Account, extension: Extension) -> str:
    """The extension's permission, never beyond the account's own (international calls
    are a per-account switch, set by the provider)."""
    allowed = TOLL_ALLOW[extension.call_permission].split(",")
    if not account.allow_international:
        allowed = [a for a in allowed if a != "international"]
    return ",".join(a for a in allowed if a)


def caller_of(account: Account, extension: Extension) -> Caller:
    """The extension as a caller, as the directory describes it to FreeSWITCH."""
    return Caller(
        toll_allow=frozenset(filter(None, toll_allow(account, extension).split(","))),
        caller_id_number=extension.outbound_caller_id_number or account.outbound_caller_id,
        caller_id_name=extension.outbound_caller_id_name or account.name,
        emergency_caller_id_number=extension.emergency_callback_number,
    )
