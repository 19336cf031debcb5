"""What FreeSWITCH must be told when the PBX model changes (pbx.signals)."""

from __future__ import annotations

import logging

from django.conf import settings

from fsnodes.queue import enqueue_many

log = logging.getLogger(__name__)


def flush_cache_commands(domains: list[str], usernames: list[str]) -> list[str]:
    """``xml_flush_cache id USER DOMAIN`` for every username in every domain (the primary
    and each alias: FreeSWITCH caches a user per realm it was looked up in)."""
    commands = []
    for username in usernames:
        for domain in domains:
            if not username or not domain or any(ch.isspace() for ch in username + domain):
                # FreeSWITCH splits the arguments on spaces: such a pair cannot be named.
                log.error("cannot flush FreeSWITCH's cache for %r@%r", username, domain)
                continue
            commands.append(f"xml_flush_cache id {username} {domain}")
    return list(dict.fromkeys(commands))


def on_sip_credentials_changed(sender, *, account=None, domains=(), usernames=(), **kwargs) -> None:
    """Sent inside the pbx action's transaction: the queued rows commit or roll back with
    the change, and delivery starts after commit."""
    commands = flush_cache_commands(list(domains), list(usernames))
    if commands:
        enqueue_many(commands)


def on_gateways_changed(sender, *, stale=(), **kwargs) -> None:
    """sofia reads gateways only when a profile starts or is rescanned: drop the removed
    or changed ones, then rescan, which (re)creates the rest from sofia.conf."""
    profile = settings.TRUNK_PROFILE
    enqueue_many([*(f"sofia profile {profile} killgw {name}" for name in stale),
                  f"sofia profile {profile} rescan"])
