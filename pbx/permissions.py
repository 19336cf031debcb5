"""What an extension may dial, as the directory tells FreeSWITCH (``toll_allow``) and
as routing checks it."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from carriers.numbering import PREMIUM, CallClass, DialedNumber, UncallableNumber, read_dialed
from carriers.routing import Caller, why_barred
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
    """The extension's permission, never beyond the account's own (international and
    premium-rate calls are per-account switches, set by the provider). ``premium`` is
    added to the classes when both the extension and the account allow revenue-share
    numbers; it never widens the classes (a domestic-only extension reaches domestic
    premium numbers, no foreign ones)."""
    allowed = TOLL_ALLOW[extension.call_permission].split(",")
    if not account.allow_international:
        allowed = [a for a in allowed if a != "international"]
    if any(allowed) and extension.allow_premium_rate and account.allow_premium_rate:
        allowed.append(PREMIUM)
    return ",".join(a for a in allowed if a)


def caller_of(account: Account, extension: Extension) -> Caller:
    """The extension as a caller, as the directory describes it to FreeSWITCH."""
    return Caller(
        toll_allow=frozenset(filter(None, toll_allow(account, extension).split(","))),
        caller_id_number=extension.outbound_caller_id_number or account.outbound_caller_id,
        caller_id_name=extension.outbound_caller_id_name or account.name,
        emergency_caller_id_number=extension.emergency_callback_number,
    )


def forward_number(account: Account, extension: Extension, dialed: str) -> DialedNumber:
    """``dialed`` (as the account's country reads it) as a number ``extension`` may send
    its calls to: a forward or a follow-me step. The dialplan places those calls with the
    extension's own permission (pbx.routing), so one the extension may not call itself
    would only fail later; a phone limited to internal calls must not buy itself long
    distance by forwarding to a number and calling itself. Raises ValidationError (no
    field: the caller knows which one) saying why."""
    try:
        number = read_dialed(dialed, account.country, account.outbound_caller_id)
    except UncallableNumber as exc:
        raise ValidationError(str(exc), code="uncallable") from exc
    if number.call_class is CallClass.EMERGENCY:
        raise ValidationError(f"Calls cannot be forwarded to the emergency number {dialed}.",
                              code="emergency")
    barred = why_barred(account, caller_of(account, extension), number)
    if barred:
        raise ValidationError(f"Extension {extension.number} may not call {number.number} ({barred}), "
                              "so it may not forward there.", code="barred")
    return number
