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
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, transaction

from fsconf.cache_local import LocalCache

log = logging.getLogger(__name__)

CACHE_ALIAS = "fsconf"
PLATFORM_KEY = "gen:platform"
# Long enough to ride out a database outage; memory is bounded by the number of users.
DOCUMENT_SECONDS = 7 * 24 * 3600
_SEPARATOR = b"\x1f"


@dataclass(frozen=True)
class Answer:
    body: bytes
    stale: bool = False


class _DjangoStore:
    """Any Django cache backend (the file cache on a machine without Redis)."""

    def __init__(self, alias: str) -> None:
        self.cache = caches[alias]

    def lookup(self, key: str) -> tuple[bytes | None, bytes | None, bytes | None]:
        """The platform generation, the entry at ``key`` and its tenant's generation."""
        platform, entry = self.get_many([PLATFORM_KEY, key])
        schema = _schema_of(entry)
        tenant = self.get_many([_tenant_key(schema)])[0] if schema else None
        return platform, entry, tenant

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        found = self.cache.get_many(keys)
        return [found.get(key) for key in keys]

    def add(self, key: str, value: bytes) -> None:
        self.cache.add(key, value, timeout=None)

    def set(self, key: str, value: bytes, seconds: int | None) -> None:
        self.cache.set(key, value, timeout=seconds)


class _RedisStore:
    """Redis through one pooled client per process. Django's RedisCache builds a client
    object per call and pickles values, which cost more than the lookup itself on this
    hot path; documents are bytes already."""

    # One round trip for a warm fetch: the entry names its tenant, whose generation the
    # script reads next to it.
    LOOKUP = """
    local found = redis.call('MGET', KEYS[1], KEYS[2])
    local tenant = false
    local ttl = -2
    if found[2] then
      local schema = string.match(found[2], '^[^\\31]*\\31([^\\31]+)\\31')
      if schema then tenant = redis.call('GET', ARGV[1] .. schema) end
      ttl = redis.call('PTTL', KEYS[2])
    end
    return {found[1], found[2], tenant, ttl}
    """

    def __init__(self, url: str, prefix: str, local_documents: int) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = f"{prefix}:fs:"
        self.script = self.client.register_script(self.LOOKUP)
        self.get_or_set = self.client.register_script(self.GET_OR_SET)
        self.platform_key = (self.prefix + PLATFORM_KEY).encode()
        self.local = LocalCache(url, self.prefix + "gen:", local_documents) if local_documents else None
        self.round_trips = 0  # lookups that went to Redis (tests read it)

    def _tenant_key_of(self, entry: bytes) -> bytes | None:
        schema = _schema_of(entry)
        return (self.prefix + _tenant_key(schema)).encode() if schema else None

    def lookup(self, key: str) -> tuple[bytes | None, bytes | None, bytes | None]:
        sequence = -1
        if self.local is not None:
            sequence, found = self.local.lookup(self.platform_key, key, self._tenant_key_of)
            if found is not None and _current_body(*found) is not None:
                return found
        self.round_trips += 1
        platform, entry, tenant, ttl = self.script(
            keys=[self.prefix + PLATFORM_KEY, self.prefix + key], args=[self.prefix + _tenant_key("")]
        )
        if self.local is not None:
            tenant_key = self._tenant_key_of(entry) if entry else None
            self.local.remember_generations(sequence, {self.platform_key: platform,
                                                       **({tenant_key: tenant} if tenant_key else {})})
            if entry is not None and ttl != -2:
                self.local.remember_document(key, entry, DOCUMENT_SECONDS if ttl == -1 else ttl / 1000)
        return platform, entry, tenant

    # A missing generation (a new tenant, a flushed cache) is created and read in one trip.
    GET_OR_SET = """
    local found = redis.call('GET', KEYS[1])
    if found then return found end
    redis.call('SET', KEYS[1], ARGV[1])
    return ARGV[1]
    """

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        return self.client.mget([self.prefix + key for key in keys])

    def add(self, key: str, value: bytes) -> None:
        self.client.set(self.prefix + key, value, nx=True)

    def generation(self, key: str) -> bytes:
        full = (self.prefix + key).encode()
        sequence = -1
        if self.local is not None:
            sequence, value = self.local.generation(full)
            if value is not None:
                return value
        value = self.get_or_set(keys=[full], args=[uuid.uuid4().hex.encode()])
        if self.local is not None:
            self.local.remember_generations(sequence, {full: value})
        return value

    def set(self, key: str, value: bytes, seconds: int | None) -> None:
        self.client.set(self.prefix + key, value, ex=seconds)
        if self.local is not None and key.startswith("doc:"):
            self.local.remember_document(key, value, seconds or DOCUMENT_SECONDS)


@cache
def _store_for(backend: str, location: str, prefix: str, local_documents: int) -> _DjangoStore | _RedisStore:
    if backend.endswith("RedisCache"):
        return _RedisStore(location, prefix, local_documents)
    return _DjangoStore(CACHE_ALIAS)


def store() -> _DjangoStore | _RedisStore:
    config = settings.CACHES[CACHE_ALIAS]
    return _store_for(config["BACKEND"], str(config.get("LOCATION", "")), config.get("KEY_PREFIX", ""),
                      settings.FSCONF_LOCAL_DOCUMENTS)


def _current_body(platform: bytes | None, entry: bytes | None,
                  tenant_generation: bytes | None) -> bytes | None:
    """The document in ``entry`` if it was built under the current generations."""
    if platform is None or entry is None:
        return None
    built_platform, schema, built_tenant, body = _unpack(entry)
    current = built_platform == platform and (schema is None or built_tenant == tenant_generation)
    return body if current else None


@dataclass
class _Render:
    schema: str | None = None
    tenant_generation: bytes | None = None
    valid_until: datetime | None = None


_render: ContextVar[_Render | None] = ContextVar("fsconf_render", default=None)


def _tenant_key(schema: str) -> str:
    return f"gen:t:{schema}"


def _document_key(parts: tuple[str, ...]) -> str:
    return "doc:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()


def _generation(key: str) -> bytes:
    cache_store = store()
    if isinstance(cache_store, _RedisStore):
        return cache_store.generation(key)
    (value,) = cache_store.get_many([key])
    if value is None:
        cache_store.add(key, uuid.uuid4().hex.encode())
        (value,) = cache_store.get_many([key])
    return value


def _schema_of(entry: bytes | None) -> str | None:
    return entry.split(_SEPARATOR, 2)[1].decode() or None if entry else None


def _pack(platform: bytes, schema: str | None, tenant_generation: bytes | None, body: bytes) -> bytes:
    return _SEPARATOR.join([platform, (schema or "").encode(), tenant_generation or b"", body])


def _unpack(entry: bytes) -> tuple[bytes, str | None, bytes, bytes]:
    platform, schema, tenant_generation, body = entry.split(_SEPARATOR, 3)
    return platform, schema.decode() or None, tenant_generation, body


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


def note_valid_until(moment: datetime | None) -> None:
    """The document being rendered depends on the time (a schedule) and may change at
    ``moment``: it is kept only until then (not at all when ``moment`` has passed)."""
    state = _render.get()
    if state is not None and moment is not None:
        state.valid_until = moment if state.valid_until is None else min(state.valid_until, moment)


def _seconds_left(state: _Render) -> int:
    if state.valid_until is None:
        return DOCUMENT_SECONDS
    return min(DOCUMENT_SECONDS, int((state.valid_until - datetime.now(UTC)).total_seconds()))


def cached(parts: tuple[str, ...] | None, render: Callable[[], bytes]) -> Answer:
    """The document for the request identified by ``parts`` (None: never cached)."""
    if parts is None:
        return Answer(render())
    key = _document_key(parts)
    try:
        cache_store = store()
        platform, entry, tenant_generation = cache_store.lookup(key)
        platform = platform or _generation(PLATFORM_KEY)
        if entry is not None:
            body = _current_body(platform, entry, tenant_generation)
            if body is not None:
                return Answer(body)
            entry = _unpack(entry)
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
    seconds = _seconds_left(state)
    if seconds > 0 and (state.schema is None or state.tenant_generation is not None):
        try:
            cache_store.set(key, _pack(platform, state.schema, state.tenant_generation, body), seconds)
        except Exception:
            log.exception("xml_curl cache unavailable")
    return Answer(body)


def _bump(key: str) -> None:
    try:
        store().set(key, uuid.uuid4().hex.encode(), None)
    except Exception:
        # Nothing cached can be trusted now; the documents age out by DOCUMENT_SECONDS at
        # the latest. Loud, because until then FreeSWITCH may get outdated answers.
        log.exception("xml_curl cache: could not invalidate %s", key)


def invalidate_tenant(schema: str) -> None:
    transaction.on_commit(lambda: _bump(_tenant_key(schema)))


def invalidate_platform() -> None:
    transaction.on_commit(lambda: _bump(PLATFORM_KEY))


def reset_platform_generation() -> None:
    """Invalidate every cached document now (tests; or by hand after restoring a backup)."""
    _bump(PLATFORM_KEY)
