"""Only FreeSWITCH nodes may fetch: source address in an allowlist and, when configured,
the binding's ``gateway-credentials`` (HTTP basic auth)."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from functools import cache, lru_cache

from django.conf import settings


@cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def address_allowed(remote_addr: str, forwarded_for: str = "") -> bool:
    """FreeSWITCH connects directly. A request relayed by a proxy carries its client in
    X-Forwarded-For and the proxy's own address in REMOTE_ADDR, which would pass a
    loopback allowlist for anyone: refused."""
    if forwarded_for:
        return False
    return _address_in(remote_addr, tuple(settings.FREESWITCH_ALLOWED_NETWORKS))


# A platform has a handful of FreeSWITCH nodes, each asking thousands of times a second:
# decide once per address (and allowlist), not per request.
@lru_cache(maxsize=4096)
def _address_in(remote_addr: str, spec: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in net for net in _networks(spec))


def credentials_ok(authorization: str) -> bool:
    return _credentials_match(authorization, settings.FREESWITCH_GATEWAY_CREDENTIALS)


# Every node sends the same header on every request. Keyed by the header as sent, so what a
# cached answer reveals is only what the sender already knows.
@lru_cache(maxsize=1024)
def _credentials_match(authorization: str, expected: str) -> bool:
    if not expected:
        return True
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError: non-ASCII input, bad UTF-8
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
