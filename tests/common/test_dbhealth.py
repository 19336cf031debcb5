"""Bounded database waits and the breaker (common.dbhealth, common.pgbackend), against the
real PostgreSQL through a proxy the tests cut (tests/dbproxy.py)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import gevent
import psycopg
import pytest
from django.db import OperationalError, connection

from common import prepared
from common.dbhealth import (
    Breaker,
    DatabaseUnavailable,
    DatabaseWaitTimeout,
    breaker,
    current_limits,
    limits,
    refresh_connections,
)
from common.pgbackend.base import probe
from switchboard.database import socket_limits
from tests.dbproxy import DatabaseProxy, Mode, dbproxy, django_connection_through  # noqa: F401

pytestmark = pytest.mark.django_db


def raw_connect(proxy: DatabaseProxy, **kwargs) -> psycopg.Connection:
    params = {**connection.get_connection_params(), "host": proxy.host, "port": proxy.port}
    return psycopg.connect(**{**params, "autocommit": True, **kwargs})


def test_the_proxy_refuses_holds_and_heals(dbproxy):  # noqa: F811
    held = raw_connect(dbproxy)
    assert held.execute("SELECT 1").fetchone() == (1,)
    dbproxy.set_mode(Mode.BLACKHOLE)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(lambda: held.execute("SELECT 2").fetchone())
        time.sleep(0.3)
        assert not waiting.done()  # nothing comes back through a partition
        dbproxy.set_mode(Mode.PASS)
        assert waiting.result(timeout=5) == (2,)  # the held query completes once it heals
    dbproxy.set_mode(Mode.REFUSE)
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 3")  # reset
    with pytest.raises(psycopg.OperationalError, match="refused"):
        raw_connect(dbproxy)
    dbproxy.set_mode(Mode.PASS)
    assert raw_connect(dbproxy).execute("SELECT 4").fetchone() == (4,)


def test_a_wait_limit_ends_a_query_lost_in_a_partition(dbproxy):  # noqa: F811
    with django_connection_through(dbproxy) as through:
        through.ensure_connection()  # opened before the cut
        dbproxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        with limits(wait=0.5), pytest.raises(OperationalError) as failed, through.cursor() as cursor:
            cursor.execute("SELECT 1")
        waited = time.monotonic() - started
        # Without the limit this waits until the partition ends (through a proxy, for ever).
        assert waited < 2.0
        # The first wait (django-tenants' SET search_path, whose failure it ignores) timed
        # out and opened the breaker, which refused the query at once.
        assert isinstance(failed.value.__cause__, DatabaseWaitTimeout | DatabaseUnavailable)
        assert breaker.is_open and "no answer from the database within 0.5 s" in breaker.reason
        assert through.connection.closed  # its state is unknown: dropped
        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)  # the probe found the database again
        refresh_connections()
        with through.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


def test_the_breaker_spares_the_connect_timeout_until_the_database_answers(dbproxy):  # noqa: F811
    with django_connection_through(dbproxy) as through:
        dbproxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        with pytest.raises(OperationalError):
            through.ensure_connection()
        first = time.monotonic() - started
        assert breaker.is_open and "cannot connect" in breaker.reason
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(OperationalError) as refused:
                through.ensure_connection()
            assert isinstance(refused.value.__cause__, DatabaseUnavailable)
        after = time.monotonic() - started
        # The first one paid connect_timeout (2 s); the five after it, nothing.
        assert first >= 1.5 and after < 0.5
        assert breaker.refused >= 5
        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)
        through.ensure_connection()
        assert through.is_usable()


def test_a_pooled_connection_is_waited_for_no_longer_than_the_breaker_allows(dbproxy):  # noqa: F811
    """With psycopg's pool (DATABASE_POOL_SIZE, as bin/run's web server has it): its own
    timeout (10 s here) is not waited through an outage, and after the outage a fresh
    pool replaces the one whose reconnection attempts were backing off."""
    with django_connection_through(dbproxy, pool={"min_size": 1, "max_size": 2, "timeout": 10}) as through, \
            limits(wait=1.0):
        through.ensure_connection()
        before = through.pool._pool
        through.close()  # back to the pool
        dbproxy.set_mode(Mode.REFUSE)
        started = time.monotonic()
        with pytest.raises(OperationalError):
            through.ensure_connection()
        assert time.monotonic() - started < 1.5 and breaker.is_open
        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)
        through.ensure_connection()
        assert through.is_usable() and through.pool._pool is not before


def test_the_probe_keeps_the_breaker_open_while_the_database_is_away():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now: refused
    params = {**connection.get_connection_params(), "host": "127.0.0.1", "port": port}
    own = Breaker(probe_interval=0.05)
    own.trip("test", partial(probe, params))
    try:
        time.sleep(0.5)
        assert own.is_open and own.probes >= 3
        with pytest.raises(DatabaseUnavailable):
            own.check()
    finally:
        own.reset()


def test_the_probe_closes_the_breaker_when_the_database_answers():
    own = Breaker(probe_interval=0.05)
    own.trip("test", partial(probe, connection.get_connection_params()))
    assert own.wait_closed(3.0)
    assert not own.is_open and own.last_outage_seconds < 3.0
    own.check()  # closed: nothing raised


def test_a_connection_lost_while_idle_is_replaced_by_the_next_unit_of_work(dbproxy):  # noqa: F811
    """What call control does per call (refresh, then the prepared hot-path cursor with
    its health check): a server restart between two calls costs nothing."""
    with django_connection_through(dbproxy) as through:
        assert prepared.rows("SELECT 1", []) == [(1,)]
        lost = through.connection
        dbproxy.set_mode(Mode.REFUSE)  # the server went down: connections reset
        dbproxy.set_mode(Mode.PASS)  # and is back
        refresh_connections()
        assert prepared.rows("SELECT 2", []) == [(2,)]
        assert through.connection is not lost and not breaker.is_open


def test_limits_nest_and_stay_with_their_greenlet():
    seen = []
    with limits(wait=1.0):
        with limits(wait=0.2, breaker=False):
            assert current_limits().wait == 0.2 and not current_limits().breaker
        assert current_limits().wait == 1.0
        gevent.spawn(lambda: seen.append(current_limits().wait)).join()
    assert seen == [current_limits().wait]  # a new greenlet starts from the process default


def test_socket_limits(monkeypatch):
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT", raising=False)
    assert socket_limits({}) == {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3,
                                 "keepalives_count": 3, "tcp_user_timeout": 10000}
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "1500")
    monkeypatch.setenv("DATABASE_TCP_USER_TIMEOUT", "4000")
    found = socket_limits({"keepalives_idle": "30", "options": "-c search_path=x"})
    assert found["keepalives_idle"] == "30" and found["tcp_user_timeout"] == 4000
    assert found["options"] == "-c search_path=x -c statement_timeout=1500"
