"""The bridge legs that ring an extension's phones (pbx.ringing), spelled out here so the
tests state the shape FreeSWITCH gets rather than recompute it with the code under test."""

from __future__ import annotations


def phone_endpoints(number: str, usernames: list[str], domains: list[str]) -> list[str]:
    """One ``[vars]${sofia_contact(*/<device>@<domain>)}`` per device and domain, devices
    in username order, the primary domain first."""
    primary = domains[0]
    return [f"[dialed_user={number},dialed_domain={primary},presence_id={number}@{primary},"
            f"sip_invite_domain={domain}]${{sofia_contact(*/{username}@{domain})}}"
            for username in usernames for domain in domains]


def phone_dial(number: str, usernames: list[str], domains: list[str]) -> str:
    return ",".join(phone_endpoints(number, usernames, domains))


ACME = ["acme.example.net", "acme.localhost"]  # tests/fsconf/conftest.py's acme_beta
BETA = ["beta.example.net"]
