"""Event-socket addresses: ``host:port`` as settings and command lines write them, and the
form FreeSWITCH's ``socket`` dialplan application takes to reach a server. The call-control
server listens on one and the dialplan (fsconf) hands FreeSWITCH the other, so both read
them here rather than one importing the other."""

from __future__ import annotations


def parse_address(value: str, name: str = "the address") -> tuple[str, int]:
    """``host:port`` as (host, port): "127.0.0.1:8084", "[::1]:8084", ":8084" (every
    address). ``name`` says what was wrong in the error (a setting, an option)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{name} must be host:port, not {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def connect_address(host: str, port: int) -> str:
    """What FreeSWITCH's ``socket`` application dials to reach a server listening on
    (host, port): a server on every IPv4 address is reached on the loopback; IPv6 in brackets."""
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
