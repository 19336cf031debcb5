"""Nodes from the ``FREESWITCH_NODES`` setting.

The setting is a list of event-socket URLs, ``esl://:PASSWORD@HOST[:PORT][#NAME]`` (port
8021 by default; the name defaults to ``HOST:PORT``; a password with ``@``, ``:`` or ``#``
is percent-encoded). When settings.py does not define it, the environment variable of the
same name is read, comma-separated::

    FREESWITCH_NODES=esl://:ClueCon@10.0.0.5:8021#fs-a,esl://:ClueCon@10.0.0.6#fs-b

``sync_configured_nodes()`` makes the table match: it creates or updates those nodes
(``source=settings``) and disables settings nodes no longer listed (kept, with their
queue, so re-adding one resumes delivery). Nodes added by hand are never touched. It runs
from ``manage.py sync_freeswitch_nodes``, at the start of every ``deliver_pending`` sweep,
and once per process before the first ``enqueue``.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from fsnodes.models import FreeswitchNode

DEFAULT_ESL_PORT = 8021

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeSpec:
    name: str
    host: str
    port: int
    password: str


def parse_node_url(url: str) -> NodeSpec:
    parts = urlsplit(url.strip())
    if parts.scheme != "esl":
        raise ImproperlyConfigured(f"FREESWITCH_NODES: {url!r} is not an esl:// URL")
    try:
        host, port = parts.hostname, parts.port or DEFAULT_ESL_PORT
    except ValueError as exc:
        raise ImproperlyConfigured(f"FREESWITCH_NODES: bad port in {url!r}") from exc
    if not host:
        raise ImproperlyConfigured(f"FREESWITCH_NODES: no host in {url!r}")
    if parts.password is None:
        raise ImproperlyConfigured(
            f"FREESWITCH_NODES: no password in {url!r} (esl://:PASSWORD@HOST:PORT)"
        )
    name = unquote(parts.fragment) or f"{host}:{port}"
    return NodeSpec(name=name, host=host, port=port, password=unquote(parts.password))


def configured_node_urls() -> list[str]:
    value = getattr(settings, "FREESWITCH_NODES", None)
    if value is None:
        value = os.environ.get("FREESWITCH_NODES", "")
    if isinstance(value, str):
        value = value.split(",")
    return [item.strip() for item in value if item and item.strip()]


def configured_nodes() -> list[NodeSpec]:
    specs = [parse_node_url(url) for url in configured_node_urls()]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"FREESWITCH_NODES: two nodes have the same name: {names}")
    return specs


def sync_configured_nodes() -> list[FreeswitchNode]:
    """Create/update the setting's nodes, disable settings nodes no longer listed.
    Returns the setting's nodes. Writes (and so locks) only rows that differ, so the usual
    no-change run never waits for a delivery in progress; safe to run concurrently."""
    specs = configured_nodes()
    fields = ["host", "esl_port", "enabled", "esl_password_encrypted"]
    with transaction.atomic():
        existing = {
            node.name: node for node in FreeswitchNode.objects.filter(name__in=[s.name for s in specs])
        }
        for spec in specs:
            node = existing.get(spec.name)
            if node is None:
                node = FreeswitchNode(name=spec.name, host=spec.host, esl_port=spec.port,
                                      source=FreeswitchNode.Source.SETTINGS)
                node.set_esl_password(spec.password)
                # ON CONFLICT: another process may be creating the same node right now.
                FreeswitchNode.objects.bulk_create(
                    [node], update_conflicts=True, unique_fields=["name"], update_fields=fields
                )
                continue
            if node.source != FreeswitchNode.Source.SETTINGS:
                raise ImproperlyConfigured(
                    f"FREESWITCH_NODES names {spec.name!r}, a node that was added by hand"
                )
            same = (node.host, node.esl_port, node.enabled) == (spec.host, spec.port, True)
            if same and node.esl_password == spec.password:
                continue
            node.host, node.esl_port, node.enabled = spec.host, spec.port, True
            if node.esl_password != spec.password:
                node.set_esl_password(spec.password)
            node.save(update_fields=fields)
        (
            FreeswitchNode.objects.filter(source=FreeswitchNode.Source.SETTINGS, enabled=True)
            .exclude(name__in=[spec.name for spec in specs])
            .update(enabled=False)
        )
    return list(FreeswitchNode.objects.filter(name__in=[spec.name for spec in specs]))


_synced_lock = threading.Lock()
_synced_for: tuple[str, ...] | None = None


def ensure_configured_nodes() -> None:
    """Sync once per process (and again if the setting changes, as in tests). Inside a
    transaction the sync is only remembered once that transaction commits."""
    global _synced_for
    urls = tuple(configured_node_urls())
    with _synced_lock:
        if urls == _synced_for:
            return
    try:
        sync_configured_nodes()
    except ImproperlyConfigured:
        # Loud, but a typo in the setting must not make every credential change fail:
        # commands still go to the nodes already in the table.
        log.exception("FREESWITCH_NODES is invalid; using the nodes already in the table")
        return

    def remember() -> None:
        global _synced_for
        with _synced_lock:
            _synced_for = urls

    transaction.on_commit(remember)
