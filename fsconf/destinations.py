"""Where a call goes. Every place a call can be sent is one kind of Destination, turned
into dialplan actions in one place; features added later (ring groups, IVRs, schedules,
conference rooms, ...) add a kind here instead of a special case in the dialplan."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.db import connection
from django_tenants.utils import schema_context

from carriers.routing import Caller, route_outbound, trunks_of
from fsconf.request import FetchRequest
from fsconf.tenancy import Tenant
from pbx.models import Device, Extension, VoicemailBox
from tenants.models import Account

CHECK_OWN_VOICEMAIL = "*97"
CHECK_ANY_VOICEMAIL = "*98"
EXTENSION_NUMBER = re.compile(r"^\d{3,6}$")


@dataclass(frozen=True)
class Destination:
    kind: str  # "extension" | "voicemail" | "check_voicemail" | "outbound" | "hangup"
    target: str = ""
    ring_seconds: int = 0
    voicemail: bool = False
    cause: str = ""
    bridge: str = ""  # outbound: the legs, tried in order
    emergency: bool = False


def resolve_dialed(
    tenant: Tenant, dialed: str, caller_username: str, caller: Caller | None = None
) -> Destination:
    """What dialing ``dialed`` from inside the tenant reaches. Emergency numbers come
    first, so nothing configured in the tenant can capture them."""
    account = tenant.account
    if caller is not None and phonenumbers.is_emergency_number(dialed, account.country):
        return outbound(tenant, dialed, caller)
    if dialed in (CHECK_OWN_VOICEMAIL, CHECK_ANY_VOICEMAIL):
        return _check_voicemail(account, dialed, caller_username)
    extension = _enabled_extension(account, dialed) if EXTENSION_NUMBER.match(dialed) else None
    if extension is not None:
        return Destination("extension", target=extension.number,
                           ring_seconds=extension.ring_seconds,
                           voicemail=extension.voicemail_enabled)
    if caller is not None:
        return outbound(tenant, dialed, caller)
    return Destination("hangup", cause="UNALLOCATED_NUMBER")


_EXTENSION_SQL = "SELECT * FROM {schema}.pbx_extension WHERE number = %s AND enabled"


def _enabled_extension(account: Account, number: str) -> Extension | None:
    """Schema-qualified, so no search_path switch on the hot path."""
    sql = _EXTENSION_SQL.format(schema=connection.ops.quote_name(account.schema_name))
    rows = list(Extension.objects.raw(sql, [number]))
    return rows[0] if rows else None


def _check_voicemail(account: Account, dialed: str, caller_username: str) -> Destination:
    if dialed == CHECK_ANY_VOICEMAIL:
        return Destination("check_voicemail")
    with schema_context(account.schema_name):
        device = Device.objects.select_related("extension").filter(username=caller_username).first()
    if device is None:
        return Destination("hangup", cause="UNALLOCATED_NUMBER")
    return Destination("check_voicemail", target=device.extension.number)


def outbound(tenant: Tenant, dialed: str, caller: Caller) -> Destination:
    route = route_outbound(tenant.account, trunks_of(tenant.trunk_owner_id), dialed, caller)
    if route.refused:
        # A number that is neither an extension nor dialable outside is just unallocated.
        cause = "UNALLOCATED_NUMBER" if route.dialed is None else route.refused
        return Destination("hangup", cause=cause)
    return Destination("outbound", target=route.dialed.number, emergency=route.emergency,
                       bridge="|".join(leg.bridge_string() for leg in route.legs))


def route_destination(tenant: Tenant, route: str) -> Destination:
    """Where a phone number's route sends a call (inbound from a carrier)."""
    kind, _, ref = route.partition(":")
    if kind == "voicemail" and ref.isdigit():
        with schema_context(tenant.account.schema_name):
            box = VoicemailBox.objects.filter(pk=int(ref)).values_list("number", flat=True).first()
        if box:
            return Destination("voicemail", target=box)
    if kind == "extension" and ref.isdigit():
        with schema_context(tenant.account.schema_name):
            number = Extension.objects.filter(pk=int(ref)).values_list("number", flat=True).first()
        if number:
            return resolve_dialed(tenant, number, caller_username="")
    return Destination("hangup", cause="UNALLOCATED_NUMBER")


def inbound_actions(destination: Destination, domain: str) -> tuple[list[tuple[str, str]], bool]:
    """From the public context into the tenant: the actions, and whether they run here
    under the tenant's call limit. An extension is reached by transferring into the
    tenant's context, where the limit, forwarding and voicemail apply once; other
    destinations run here with the tenant's domain set."""
    if destination.kind == "hangup":
        return actions_for(destination, domain), False
    if destination.kind == "extension":
        return [("set", f"domain_name={domain}"),
                ("transfer", f"{destination.target} XML {domain}")], False
    return [("set", f"domain_name={domain}"), *actions_for(destination, domain)], True


def actions_for(destination: Destination, context: str) -> list[tuple[str, str]]:
    """The dialplan applications (name, data) that send a call to ``destination``;
    ``context`` is the tenant's primary domain, which also names its voicemail domain."""
    if destination.kind == "extension":
        actions = [
            ("set", f"call_timeout={destination.ring_seconds}"),
            ("set", "hangup_after_bridge=true"),
            ("set", "continue_on_fail=true"),
            ("bridge", f"user/{destination.target}@{context}"),
        ]
        if destination.voicemail:
            actions += [("answer", ""), ("voicemail", f"default {context} {destination.target}")]
        else:
            # Busy stays busy, unanswered stays unanswered.
            actions.append(("hangup", "${originate_disposition}"))
        return actions
    if destination.kind == "outbound":
        # Gateways are tried in order ("|"); when all fail the call ends with the last
        # carrier's cause, which the caller's phone shows.
        actions = [("set", "hangup_after_bridge=true"),
                   ("set", f"outbound_number={destination.target}")]
        if destination.emergency:
            actions.append(("set", "emergency_call=true"))
        return [*actions, ("bridge", destination.bridge)]
    if destination.kind == "voicemail":
        return [("answer", ""), ("voicemail", f"default {context} {destination.target}")]
    if destination.kind == "check_voicemail":
        box = f" {destination.target}" if destination.target else ""
        return [("answer", ""), ("voicemail", f"check default {context}{box}")]
    return [("hangup", destination.cause or "UNALLOCATED_NUMBER")]


def caller_from(variables: FetchRequest) -> Caller | None:
    """The calling extension as the directory described it; None for a call without an
    authenticated extension (such as one transferred in from a carrier), which may not
    call out."""
    if not variables.get("variable_user_name"):
        return None
    return Caller(
        toll_allow=frozenset(filter(None, variables.get("variable_toll_allow", "").split(","))),
        caller_id_number=variables.get("variable_outbound_caller_id_number", ""),
        caller_id_name=variables.get("variable_outbound_caller_id_name", ""),
        emergency_caller_id_number=variables.get("variable_emergency_caller_id_number", ""),
    )

