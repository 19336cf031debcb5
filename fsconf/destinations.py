"""Where a call goes. Every place a call can be sent is one kind of Destination, turned
into dialplan actions in one place; features added later (ring groups, IVRs, schedules,
conference rooms, ...) add a kind here instead of a special case in the dialplan."""

from __future__ import annotations

from dataclasses import dataclass

from django_tenants.utils import schema_context

from pbx.models import Device, Extension
from tenants.models import Account

CHECK_OWN_VOICEMAIL = "*97"
CHECK_ANY_VOICEMAIL = "*98"


@dataclass(frozen=True)
class Destination:
    kind: str  # "extension" | "voicemail" | "check_voicemail" | "hangup"
    target: str = ""
    ring_seconds: int = 0
    voicemail: bool = False
    cause: str = ""


def resolve_dialed(account: Account, dialed: str, caller_username: str) -> Destination:
    """What dialing ``dialed`` from inside the tenant reaches."""
    with schema_context(account.schema_name):
        if dialed == CHECK_OWN_VOICEMAIL:
            device = Device.objects.select_related("extension").filter(username=caller_username).first()
            if device is None:
                return Destination("hangup", cause="UNALLOCATED_NUMBER")
            return Destination("check_voicemail", target=device.extension.number)
        if dialed == CHECK_ANY_VOICEMAIL:
            return Destination("check_voicemail")
        extension = Extension.objects.filter(number=dialed, enabled=True).first()
    if extension is not None:
        return Destination("extension", target=extension.number,
                           ring_seconds=extension.ring_seconds,
                           voicemail=extension.voicemail_enabled)
    return Destination("hangup", cause="UNALLOCATED_NUMBER")


def route_destination(account: Account, kind: str, target: str) -> Destination:
    """Where a phone number's route sends a call (inbound from a carrier)."""
    if kind == "voicemail":
        return Destination("voicemail", target=target)
    if kind == "extension":
        return resolve_dialed(account, target, caller_username="")
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
    if destination.kind == "voicemail":
        return [("answer", ""), ("voicemail", f"default {context} {destination.target}")]
    if destination.kind == "check_voicemail":
        box = f" {destination.target}" if destination.target else ""
        return [("answer", ""), ("voicemail", f"check default {context}{box}")]
    return [("hangup", destination.cause or "UNALLOCATED_NUMBER")]
