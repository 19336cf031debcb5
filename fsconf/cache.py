"""Rendered xml_curl documents, cached until a write changes what they were built from.

Every document is stored with the generations it was built under: the platform's (bumped
by account, domain, phone-number and trunk changes, which can move a request to another
tenant or change its routing) and, when the request named a tenant, that tenant's
(bumped by every write to its PBX data). A generation is a random token in the same cache
as the documents (Redis in production, so every web process and machine sees a bump at
once); a bump makes every document built under the old token a miss, without finding or
deleting them. Generations are read *before* the data, so a write that lands while a
document is rendered leaves that document already out of date, never wrongly current.

The stale entry stays in the cache: when PostgreSQL cannot answer, it is served as the
last known good answer, marked stale (header and log), rather than making FreeSWITCH fall
back to its static files.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.cache import caches
from django.db import DatabaseError, transaction

log = logging.getLogger(__name__)

CACHE_ALIAS = "fsconf"
PLATFORM_KEY = "gen:platform"
# Long enough to ride out a database outage; memory is bounded by the number of users.
DOCUMENT_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Answer:
    body: bytes
    stale: bool = False


@dataclass
class _Render:
    schema: str | None = None
    tenant_generation: str | None = None


_render: ContextVar[_Render | None] = ContextVar("fsconf_render", default=None)


def _tenant_key(schema: str) -> str:
    return f"gen:t:{schema}"


def _document_key(parts: tuple[str, ...]) -> str:
    return "doc:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()


def _generation(key: str) -> str:
    cache = caches[CACHE_ALIAS]
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        value = cache.get(key)
    return value


def note_tenant(schema: str) -> None:
    """Called by tenant resolution, before any of the tenant's data is read: the
    document being rendered belongs to ``schema``."""
    state = _render.get()
    if state is not None and state.schema is None:
        state.schema = schema
        try:
            state.tenant_generation = _generation(_tenant_key(schema))
        except Exception:
            log.exception("xml_curl cache unavailable")


def cached(parts: tuple[str, ...] | None, render: Callable[[], bytes]) -> Answer:
    """The document for the request identified by ``parts`` (None: never cached)."""
    if parts is None:
        return Answer(render())
    cache = caches[CACHE_ALIAS]
    key = _document_key(parts)
    try:
        found = cache.get_many([PLATFORM_KEY, key])
        entry = found.get(key)
        platform = found.get(PLATFORM_KEY) or _generation(PLATFORM_KEY)
        if entry is not None and entry[0] == platform and (
            entry[1] is None or cache.get(_tenant_key(entry[1])) == entry[2]
        ):
            return Answer(entry[3])
    except Exception:
        # The cache is an optimisation: without it, answer from the database.
        log.exception("xml_curl cache unavailable")
        return Answer(render())
    state = _Render()
    token = _render.set(state)
    try:
        body = render()
    except DatabaseError:
        if entry is None:
            raise
        log.warning("xml_curl: database unavailable, serving the last known good answer "
                    "(stale) for %s", "/".join(parts))
        return Answer(entry[3], stale=True)
    finally:
        _render.reset(token)
    if state.schema is None or state.tenant_generation is not None:
        try:
            cache.set(key, (platform, state.schema, state.tenant_generation, body), DOCUMENT_SECONDS)
        except Exception:
            log.exception("xml_curl cache unavailable")
    return Answer(body)


def _bump(key: str) -> None:
    try:
        caches[CACHE_ALIAS].set(key, uuid.uuid4().hex, timeout=None)
    except Exception:
        # Nothing cached can be trusted now; the documents age out by DOCUMENT_SECONDS at
        # the latest. Loud, because until then FreeSWITCH may get outdated answers.
        log.exception("xml_curl cache: could not invalidate %s", key)


def invalidate_tenant(schema: str) -> None:
    transaction.on_commit(lambda: _bump(_tenant_key(schema)))


def invalidate_platform() -> None:
    transaction.on_commit(lambda: _bump(PLATFORM_KEY))
