"""Surviving a database outage: every wait for PostgreSQL bounded, and a circuit breaker.

PostgreSQL goes away in two ways. Refused (the server is down): connecting fails at once.
Unreachable (a network partition): a connect, or a query on a connection opened before,
waits as long as the kernel keeps retrying -- for a query whose request was already
acknowledged, for ever unless TCP keepalives are on. FreeSWITCH waits 3 s for an xml_curl
answer and call control's database reads block its whole hub (``callcontrol.server``), so
both must give up well before that and answer without the database.

* **Wait limits.** Inside ``limits(wait=s)`` -- or under the process's default,
  ``set_default_wait_limit`` -- each wait for the database (a query, a commit, Django's
  health check) ends after ``s`` seconds with :class:`DatabaseWaitTimeout`, and the
  connection is dropped, its state being unknown. ``common.pgbackend`` enforces it in
  psycopg's wait loop, so it holds whatever the network does; connecting is bounded by
  ``connect_timeout`` (``switchboard.database``).
* **The breaker.** A connect that fails or a wait that times out opens it (one per
  process): from then on every database operation of the process fails at once with
  :class:`DatabaseUnavailable` instead of paying the connect timeout again, and a probe
  in the background tries the database every ``PROBE_INTERVAL`` s (several attempts in
  flight, so one stuck in a partition does not delay the next); the first that gets an
  answer closes it. An outage is logged twice: when it starts and when it ends.

Both are psycopg ``OperationalError``s, so Django raises them as
``django.db.OperationalError``: callers handle them as any other database failure (the
xml_curl endpoint answers from its last known good document, call control hands the
call back to the dialplan, the admin answers 503).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import psycopg

log = logging.getLogger("switchboard.database")

# How often the open breaker tries the database, and how many tries may be in flight
# (in a partition each one waits for its connect timeout).
PROBE_INTERVAL = 0.25
MAX_PROBES_IN_FLIGHT = 4
# A probe's own wait limit for its SELECT 1 (its connect has connect_timeout).
PROBE_WAIT = 1.0


class DatabaseUnavailable(psycopg.OperationalError):
    """Not even tried: the breaker is open (the database failed moments ago)."""


class DatabaseWaitTimeout(psycopg.OperationalError):
    """The database did not answer within the wait limit; the connection was dropped."""


@dataclass(frozen=True)
class Limits:
    wait: float | None = None  # seconds; None: as long as the network takes
    breaker: bool = True  # False: try the database even while the breaker is open


def _seconds_from_environment(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    return value if value > 0 else None


_default = Limits(wait=_seconds_from_environment("DATABASE_WAIT_LIMIT"))
_scope: ContextVar[Limits | None] = ContextVar("database_limits", default=None)


def current_limits() -> Limits:
    return _scope.get() or _default


def set_default_wait_limit(seconds: float | None) -> None:
    """The wait limit of everything this process does outside a ``limits()`` scope (its
    role's: call control sets it for its whole hub, the web server for its requests)."""
    global _default
    _default = Limits(wait=seconds if seconds and seconds > 0 else None)


@contextmanager
def limits(*, wait: float | None, breaker: bool = True) -> Iterator[Limits]:
    """Bound every database wait of this thread (or greenlet) inside the block."""
    scope = Limits(wait=wait if wait and wait > 0 else None, breaker=breaker)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


class Breaker:
    """Open while the database is known to be unreachable (see the module docstring)."""

    def __init__(self, *, probe_interval: float = PROBE_INTERVAL,
                 max_probes: int = MAX_PROBES_IN_FLIGHT, probe_wait: float = PROBE_WAIT) -> None:
        self.probe_interval = probe_interval
        self.max_probes = max_probes
        self.probe_wait = probe_wait
        self.opened_at: float | None = None  # time.monotonic() of the trip; None: closed
        self.reason = ""
        self.trips = 0  # outages seen by this process
        self.refused = 0  # operations failed at once during the current outage
        self.probes = 0  # probe attempts during the current outage
        self.last_outage_seconds: float | None = None
        self._generation = 0  # bumped by each trip and reset: a stale probe loop stops
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._closed.set()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def check(self) -> None:
        """Raise DatabaseUnavailable at once while the breaker is open."""
        opened_at = self.opened_at
        if opened_at is not None:
            self.refused += 1
            raise DatabaseUnavailable(
                f"database unavailable for {time.monotonic() - opened_at:.1f} s ({self.reason}); not tried")

    def trip(self, reason: str, probe: Callable[[], None]) -> None:
        """The database failed: open (if closed) and probe it with ``probe`` -- a callable
        that connects and queries, raising if it cannot -- until it answers."""
        with self._lock:
            if self.opened_at is not None:
                return
            self.opened_at = time.monotonic()
            self.reason = reason
            self.trips += 1
            self.refused = 0
            self.probes = 0
            self._generation += 1
            generation = self._generation
            self._closed.clear()
        log.error("database unreachable (%s): answering without it until it is back", reason)
        threading.Thread(target=self._probe_loop, args=(generation, probe), daemon=True,
                         name="database-breaker-probe").start()

    def wait_closed(self, timeout: float) -> bool:
        return self._closed.wait(timeout)

    def reset(self) -> None:
        """Close without waiting for a probe (tests; a probe loop still running stops)."""
        with self._lock:
            self._generation += 1
            self.opened_at = None
            self.reason = ""
            self._closed.set()

    def _probe_loop(self, generation: int, probe: Callable[[], None]) -> None:
        in_flight = threading.BoundedSemaphore(self.max_probes)
        while self._generation == generation:
            if in_flight.acquire(blocking=False):
                threading.Thread(target=self._probe_once, args=(generation, probe, in_flight),
                                 daemon=True, name="database-breaker-probe-attempt").start()
            self._closed.wait(self.probe_interval)

    def _probe_once(self, generation: int, probe: Callable[[], None],
                    in_flight: threading.BoundedSemaphore) -> None:
        try:
            self.probes += 1
            with limits(wait=self.probe_wait, breaker=False):
                probe()
        except Exception as exc:
            log.debug("database probe failed: %s", exc)
        else:
            self._close(generation)
        finally:
            in_flight.release()

    def _close(self, generation: int) -> None:
        with self._lock:
            if self._generation != generation or self.opened_at is None:
                return
            down = time.monotonic() - self.opened_at
            self.last_outage_seconds = down
            self.opened_at = None
            self._generation += 1
            self._closed.set()
        log.warning("database reachable again after %.1f s (%d operations answered without it meanwhile)",
                    down, self.refused)


breaker = Breaker()


def refresh_connections() -> None:
    """At the start of a unit of work outside Django's request cycle (a call in call
    control): the next query of each of this thread's connections runs Django's health
    check first (CONN_HEALTH_CHECKS, as on a request's first query), so a connection that
    failed or was lost while idle -- the server restarted, a partition dropped it -- is
    replaced instead of failing the work. Nothing is sent now: work that never reads the
    database never touches it."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.health_check_done = False
