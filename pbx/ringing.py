"""The bridge legs that ring an extension's phones: one leg per enabled device and SIP
domain of the tenant, each the device's registered contact on that domain.

Why not ``user/<number>@<domain>``, whose directory dial-string lists the same contacts:
inside a bridge with more than one leg (the extension's directed-pickup leg beside it, a
ring group's other members, a sequential group's ``|`` list, a follow-me step)
FreeSWITCH originates the ``user/`` leg as a forked dial, and mod_dptools'
``user_outgoing_channel`` then originates the user's dial-string with ``SOF_NOBLOCK``;
``switch_ivr_originate`` in that mode keeps only the first element of a ``,`` or ``|``
list ("Only calling the first element in the list in this mode"). A second device, or a
phone registered under an alias domain, got no INVITE (issue 12, defect 3). Listing the
contacts in the bridge itself makes every one a sibling leg of the same originate.

Each leg carries what the ``user/`` endpoint set on the phone's channel and what reads
it: ``dialed_user`` and ``dialed_domain`` (call records name the extension rung from
them), ``presence_id`` (busy-lamp fields watch the extension's number) and
``sip_invite_domain`` (the domain the phone registered under, in the INVITE's From).
``user/<number>@<domain>`` alone, outside a list (a queue agent's contact, which
mod_callcenter originates by itself), still rings every contact through the dial-string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# sofia_contact's answer for a user with no registration, and the ``error/`` endpoint
# FreeSWITCH turns it into (cause USER_NOT_REGISTERED): also the leg for no devices.
NOT_REGISTERED = "error/user_not_registered"


def contact_endpoint(username: str, domain: str) -> str:
    """The registered contact of ``username@domain`` on any sofia profile, looked up when
    the bridge runs (``${sofia_contact(*/...)}`` expands to ``sofia/internal/sip:...``, or
    to ``error/user_not_registered``)."""
    return f"${{sofia_contact(*/{username}@{domain})}}"


Leg = tuple[str, dict[str, str]]  # (endpoint, per-leg variables)


def phone_legs(number: str, usernames: Iterable[str], domains: Sequence[str]) -> list[Leg]:
    """(endpoint, leg variables) for every device ``usernames`` of extension ``number``
    on every domain of ``domains`` (the tenant's, primary first); one leg that fails as
    not registered when the extension has no enabled device."""
    if not domains:
        raise ValueError("ringing an extension needs the tenant's SIP domains")
    primary = domains[0]
    common = {"dialed_user": number, "dialed_domain": primary, "presence_id": f"{number}@{primary}"}
    legs = [(contact_endpoint(username, domain), {**common, "sip_invite_domain": domain})
            for username in usernames for domain in domains]
    return legs or [(NOT_REGISTERED, common)]


def bracketed(endpoint: str, variables: dict[str, str]) -> str:
    """``[k=v,...]endpoint``: per-leg variables in a bridge's comma-separated list (the
    values here are numbers and domain names, which hold no ``,`` ``]`` or ``|``)."""
    for value in variables.values():
        if any(character in value for character in ",]|[{}"):
            raise ValueError(f"a leg variable cannot hold {value!r}")
    items = ",".join(f"{name}={value}" for name, value in variables.items())
    return f"[{items}]{endpoint}" if items else endpoint


def phone_dial(number: str, usernames: Iterable[str], domains: Sequence[str]) -> list[str]:
    """:func:`phone_legs` written as bridge endpoints."""
    return [bracketed(endpoint, variables) for endpoint, variables in phone_legs(number, usernames, domains)]
