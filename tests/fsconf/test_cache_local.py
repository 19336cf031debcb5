"""The per-process document copy (fsconf/cache_local.py): warm answers come from memory,
and Redis's invalidation messages keep them exact — a generation bumped by any other
client is honoured by the very next fetch; without the tracking connection every lookup
goes to Redis."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from fsconf import cache_local
from fsconf.cache import PLATFORM_KEY, _tenant_key, store
from fsconf.cache_local import Incomplete, LocalCache, parse_frame
from tests.fsconf.test_cache import REQUESTS, body_of, fresh, served

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the local copy rides on Redis")


def test_parses_an_invalidation_push_and_its_flush_form():
    keys = b">2\r\n$10\r\ninvalidate\r\n*2\r\n$5\r\ngen:a\r\n$5\r\ngen:b\r\n"
    assert parse_frame(keys) == (("push", [b"invalidate", [b"gen:a", b"gen:b"]]), len(keys))
    flush = b">2\r\n$10\r\ninvalidate\r\n_\r\n"
    assert parse_frame(flush) == (("push", [b"invalidate", None]), len(flush))
    hello = b"%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n+OK\r\n"
    value, used = parse_frame(hello)
    assert value == [b"server", b"redis", b"proto", b"3"]
    assert parse_frame(hello, used) == (b"OK", len(hello))
    assert parse_frame(b"-ERR nope\r\n")[0] == ("error", "ERR nope")


@pytest.mark.parametrize("cut", [1, 5, 18, 30])
def test_a_frame_cut_short_waits_for_the_rest(cut):
    frame = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\ngen:a\r\n"
    with pytest.raises(Incomplete):
        parse_frame(frame[:cut])


def test_invalidations_and_flushes_forget_generations():
    local = LocalCache("redis://127.0.0.1:1/0", "p:gen:", 10)
    local.generations = {b"p:gen:a": b"1", b"p:gen:b": b"2"}
    before = local.sequence
    local._apply(("push", [b"invalidate", [b"p:gen:a"]]))
    assert local.generations == {b"p:gen:b": b"2"} and local.sequence == before + 1
    local._apply(("push", [b"invalidate", None]))
    assert local.generations == {}


def test_documents_are_bounded_oldest_first():
    local = LocalCache("redis://127.0.0.1:1/0", "p:gen:", 2)
    for key in ("doc:1", "doc:2", "doc:3"):
        local.remember_document(key, b"x", 60)
    assert list(local.documents) == ["doc:2", "doc:3"]


@pytest.fixture
def local_store():
    current = store()
    if current.local is None:
        pytest.skip("local copy turned off")
    return current


@needs_redis
def test_a_warm_fetch_is_answered_from_memory(platform, local_store):
    captured = body_of(*REQUESTS["register acme 1001"])
    first = served(captured)
    served(captured)  # the generations are now known to this process
    trips = local_store.round_trips
    assert served(captured) == first
    assert local_store.round_trips == trips


@needs_redis
def test_a_bump_by_another_client_is_honoured_by_the_next_fetch(platform, local_store):
    """The writer is a separate Redis connection, as another web process or machine is."""
    captured = body_of(*REQUESTS["register acme 1001"])
    served(captured)
    served(captured)
    other = redis.Redis.from_url(settings.REDIS_URL)
    tenant_key = local_store.prefix + _tenant_key(platform.c1.schema_name)
    other.set(tenant_key, b"bumped-elsewhere")
    trips = local_store.round_trips
    assert served(captured) == fresh(captured)
    assert local_store.round_trips == trips + 1
    other.set(local_store.prefix + PLATFORM_KEY, b"bumped-elsewhere-too")
    trips = local_store.round_trips
    served(captured)
    assert local_store.round_trips == trips + 1


@needs_redis
def test_without_the_tracking_connection_every_lookup_goes_to_redis(platform, local_store):
    captured = body_of(*REQUESTS["register acme 1001"])
    served(captured)
    served(captured)
    client = redis.Redis.from_url(settings.REDIS_URL)
    host, port = local_store.local._sock.getsockname()[:2]
    ours = f"{host}:{port}"
    (tracker,) = [entry["id"] for entry in client.client_list() if entry["addr"] == ours]
    client.client_kill_filter(_id=tracker)
    time.sleep(0.05)
    # The next lookup finds the connection closed, forgets every generation, asks Redis
    # and answers right; it does not reconnect before RETRY_SECONDS.
    trips = local_store.round_trips
    assert served(captured) == fresh(captured)
    assert local_store.round_trips == trips + 1
    assert not local_store.local.up and local_store.local.generations == {}
    trips = local_store.round_trips
    served(captured)
    assert local_store.round_trips == trips + 1
    # Once the retry is due, tracking comes back and warm answers are local again.
    time.sleep(cache_local.RETRY_SECONDS)
    served(captured)
    served(captured)
    assert local_store.local.up
    trips = local_store.round_trips
    assert served(captured) == fresh(captured)
    assert local_store.round_trips == trips


def test_an_unreachable_redis_leaves_tracking_down_and_retries_later():
    local = LocalCache("redis://127.0.0.1:1/0", "p:gen:", 10)
    sequence, found = local.lookup(b"p:gen:platform", "doc:x", lambda entry: None)
    assert (sequence, found) == (-1, None)
    assert not local.up and local._retry_at > time.monotonic()
    assert cache_local.RETRY_SECONDS >= 0.5


@needs_redis
def test_a_known_tenant_generation_is_read_from_memory_until_bumped(platform, local_store, committed):
    from fsconf.cache import _generation, invalidate_tenant

    key = _tenant_key(platform.c1.schema_name)
    first = _generation(key)
    assert local_store.local.generations.get((local_store.prefix + key).encode()) == first
    other = redis.Redis.from_url(settings.REDIS_URL)
    other.set(local_store.prefix + key, b"bumped-elsewhere")
    assert _generation(key) == b"bumped-elsewhere"
    with committed():
        invalidate_tenant(platform.c1.schema_name)
    assert _generation(key) not in (first, b"bumped-elsewhere")
