"""Django's PostgreSQL backend, whose connections keep ``common.dbhealth``'s limits.

psycopg runs every operation on a connection (query, commit, rollback, the health check)
through ``Connection.wait``; ``LimitedConnection.wait`` refuses at once while the breaker
is open and gives the wait the current limit. Connecting goes through the breaker too,
and a connect that fails opens it. django-tenants' backend (the project's ENGINE)
subclasses this one through its ``ORIGINAL_BACKEND`` setting.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

import psycopg
import psycopg.errors
from django.db.backends.postgresql import base as postgresql

from common.dbhealth import DatabaseUnavailable, DatabaseWaitTimeout, breaker, current_limits

# psycopg's own interval between checks for an interrupt: the precision of a wait limit.
_WAIT_INTERVAL = 0.1
# The timeout of Connection.wait raises this (psycopg >= 3.2; a private class).
_WaitTimeout = getattr(psycopg.errors, "_WaitTimeout", None)
if _WaitTimeout is None or "timeout" not in inspect.signature(psycopg.Connection.wait).parameters:
    raise ImportError("common.pgbackend needs psycopg >= 3.2 (Connection.wait with a timeout)")


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
    """psycopg's pool (``OPTIONS["pool"]``), whose ``getconn`` waits no longer than the
    current wait limit: its own timeout is for busy moments, not for an outage."""

    def __init__(self, pool) -> None:
        self._pool = pool

    def getconn(self, timeout: float | None = None):
        limit = current_limits().wait
        if limit is not None and (timeout is None or timeout > limit):
            timeout = limit
        return self._pool.getconn(timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class DatabaseWrapper(postgresql.DatabaseWrapper):
    Database = _PsycopgConnectingLimited()

    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if options and self.alias not in self._connection_pools:
            options = {} if options is True else options
            self.settings_dict["OPTIONS"]["pool"] = {"connection_class": LimitedConnection, **options}
        pool = super().pool
        return None if pool is None else _BoundedPool(pool)

    def get_new_connection(self, conn_params):
        if current_limits().breaker:
            breaker.check()
        try:
            connection = super().get_new_connection(conn_params)
        except DatabaseUnavailable:
            raise
        except psycopg.OperationalError as exc:
            # Refused, timed out, out of connections, shutting down -- or a wrong password
            # or database name: libpq gives a failed connect no SQLSTATE to tell them
            # apart, and nothing would work in the latter case either.
            breaker.trip(f"cannot connect: {' '.join(str(exc).split())}", partial(probe, conn_params))
            raise
        if isinstance(connection, LimitedConnection):
            connection.probe = partial(probe, conn_params)
        return connection
