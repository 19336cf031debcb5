"""Django's PostgreSQL backend, whose connections keep ``common.dbhealth``'s limits.

psycopg runs every operation on a connection (query, commit, rollback, the health check)
through ``Connection.wait``; ``LimitedConnection.wait`` refuses at once while the breaker
is open and gives the wait the current limit. A connect that fails -- Django's own or the
psycopg pool's (``OPTIONS["pool"]``, ``DATABASE_POOL_SIZE``) -- opens the breaker. With a
pool, a request waits for a connection no longer than its wait limit, gives up as soon
as the breaker opens, and after an outage gets a fresh pool: psycopg's pool retries a
lost connection with an exponential backoff that, after a long outage, would keep it
empty for tens of seconds after the database is back. django-tenants' backend (the
project's ENGINE) subclasses this one through its ``ORIGINAL_BACKEND`` setting.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from functools import partial
from typing import Any

import psycopg
import psycopg.errors
from django.db.backends.postgresql import base as postgresql

from common.dbhealth import DatabaseWaitTimeout, breaker, current_limits

log = logging.getLogger("switchboard.database")

# psycopg's own interval between checks for an interrupt: the precision of a wait limit.
_WAIT_INTERVAL = 0.1
# The timeout of Connection.wait raises this (psycopg >= 3.2; a private class).
_WaitTimeout = getattr(psycopg.errors, "_WaitTimeout", None)
if _WaitTimeout is None or "timeout" not in inspect.signature(psycopg.Connection.wait).parameters:
    raise ImportError("common.pgbackend needs psycopg >= 3.2 (Connection.wait with a timeout)")
# How often a request waiting for a pooled connection looks at the breaker.
_POOL_SLICE = 0.05


def probe(conn_params: dict[str, Any]) -> None:
    """Connect and run SELECT 1 (the breaker's probe; raises if the database does not answer)."""
    connection = LimitedConnection.connect(**{**conn_params, "autocommit": True})
    try:
        connection.execute("SELECT 1")
    finally:
        connection.close()


class LimitedConnection(psycopg.Connection):
    # How to probe the database if this connection trips the breaker (its own parameters).
    probe: partial | None = None

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any):
        try:
            connection = super().connect(conninfo, **kwargs)
        except psycopg.OperationalError as exc:
            # Refused, timed out, out of connections, shutting down -- or a wrong password
            # or database name: libpq gives a failed connect no SQLSTATE to tell them
            # apart, and nothing would work in the latter case either. (The probe's own
            # attempts run outside the breaker and do not count.)
            if current_limits().breaker:
                breaker.trip(f"cannot connect: {' '.join(str(exc).split())}",
                             partial(probe, {"conninfo": conninfo, **kwargs}))
            raise
        connection.probe = partial(probe, {"conninfo": conninfo, **kwargs})
        return connection

    def wait(self, gen, interval: float = _WAIT_INTERVAL, timeout: float | None = None):
        scope = current_limits()
        if scope.breaker:
            breaker.check()
        limit = scope.wait
        if limit is None or (timeout is not None and timeout <= limit):
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except _WaitTimeout:
            # A request may be on its way or half answered: nothing more can be read from
            # this connection reliably. Drop it (Django replaces it on its next use).
            self.pgconn.finish()
            failure = DatabaseWaitTimeout(f"no answer from the database within {limit:g} s; dropped")
            if self.probe is not None:
                breaker.trip(str(failure), self.probe)
            raise failure from None


class _PsycopgConnectingLimited:
    """The psycopg module as Django's backend calls it (``self.Database``), connecting
    with LimitedConnection; everything else is psycopg's own."""

    connect = staticmethod(LimitedConnection.connect)

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)


class _BoundedPool:
    """psycopg's pool, whose ``getconn`` waits no longer than the current wait limit and
    stops waiting when the breaker opens: its own timeout is for busy moments, not for
    an outage."""

    def __init__(self, pool) -> None:
        self._pool = pool

    def getconn(self, timeout: float | None = None):
        scope = current_limits()
        if scope.wait is None:
            return self._pool.getconn(timeout=timeout)
        from psycopg_pool import PoolTimeout

        deadline = time.monotonic() + (scope.wait if timeout is None else min(timeout, scope.wait))
        while True:
            if scope.breaker:
                breaker.check()
            left = deadline - time.monotonic()
            try:
                return self._pool.getconn(timeout=max(0.001, min(_POOL_SLICE, left)))
            except PoolTimeout:
                if left <= _POOL_SLICE:
                    raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


# Per alias, the breaker's trip count when its pool was made (None: made during an
# outage): a pool older than the last outage is replaced (see the module docstring).
_pool_made_at: dict[str, int | None] = {}
_pool_lock = threading.Lock()


class DatabaseWrapper(postgresql.DatabaseWrapper):
    Database = _PsycopgConnectingLimited()

    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if not options:
            return super().pool
        with _pool_lock:
            if options is True or "connection_class" not in options:
                options = {} if options is True else options
                self.settings_dict["OPTIONS"]["pool"] = {"connection_class": LimitedConnection, **options}
            made_at = _pool_made_at.get(self.alias, breaker.trips)
            if made_at != breaker.trips and not breaker.is_open:
                old = self._connection_pools.pop(self.alias, None)
                del _pool_made_at[self.alias]
                if old is not None:
                    log.info("database back: a fresh connection pool replaces the one of the outage")
                    threading.Thread(target=old.close, daemon=True, name="database-old-pool-close").start()
            pool = super().pool
            if pool is not None and self.alias not in _pool_made_at:
                _pool_made_at[self.alias] = None if breaker.is_open else breaker.trips
        return None if pool is None else _BoundedPool(pool)

    def close_pool(self) -> None:
        with _pool_lock:
            _pool_made_at.pop(self.alias, None)
        super().close_pool()

    def get_new_connection(self, conn_params):
        if current_limits().breaker:
            breaker.check()
        return super().get_new_connection(conn_params)
