"""Where a webhook may post: the server-side request forgery guard.

A tenant chooses the URL, and our workers post to it from inside the platform's network,
so an address on that network (loopback, private ranges, link-local such as a cloud's
metadata service at 169.254.169.254, carrier-grade NAT, multicast, reserved) is refused
unless ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` (a development machine, the tests' local
receiver). The name is resolved when the delivery is made, every address it resolves
to must be allowed, and the connection goes to the address that was checked (the Host
header and TLS server name stay the URL's), so a name that resolves to a public address
at the check and to 127.0.0.1 at the connect (DNS rebinding) does not get through."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(ValueError):
    """The URL may not be posted to; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str  # the URL with the checked address in place of the name
    host: str  # the Host header (the URL's host[:port])
    sni_hostname: str | None  # https: the name the certificate must match


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL without credentials; TargetRefused else.
    A literal address is checked here too, so an obviously internal URL is refused when
    the webhook is saved, not only at its first delivery."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL; verify the signature instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from exc
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not private_allowed() and not _public(literal):
        raise TargetRefused(f"{literal} is a private, loopback or reserved address.")
    return parts.scheme, parts.hostname, port


def resolve(url: str) -> Target:
    """The checked address to connect to for ``url`` (TargetRefused: not allowed, or the
    name does not resolve)."""
    scheme, hostname, port = check_url(url)
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"{hostname} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"{hostname} does not resolve")
    if not private_allowed():
        refused = [str(a) for a in addresses if not _public(a)]
        if refused:
            raise TargetRefused(f"{hostname} resolves to a private, loopback or reserved address "
                                f"({', '.join(sorted(set(refused)))}).")
    address = addresses[0]
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}"
    pinned = parts._replace(netloc=netloc).geturl()
    default_port = 443 if scheme == "https" else 80
    host = hostname if port == default_port else f"{hostname}:{port}"
    if ":" in hostname and not hostname.startswith("["):
        host = f"[{hostname}]" if port == default_port else f"[{hostname}]:{port}"
    return Target(pinned, host, hostname if scheme == "https" else None)
