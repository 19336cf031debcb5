"""Helpers for the connection-manager tests: bounded waits (never timings) and the
greenlet leak check."""

from __future__ import annotations

import gc
from collections.abc import Callable

import gevent

from fsnodes import inbound, manager
from fsnodes.inbound import Backoff
from fsnodes.manager import NodeManager

FAST = {
    "connect_timeout": 1.0,
    "reply_timeout": 2.0,
    "backoff": Backoff(base=0.02, cap=0.16),
    "refresh_interval": 0,
}


def make_manager(**options) -> NodeManager:
    return NodeManager(**{**FAST, **options})


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Until ``condition()`` is truthy (the manager's greenlets run meanwhile)."""
    with gevent.Timeout(timeout, AssertionError(f"timed out waiting for {what}")):
        while True:
            value = condition()
            if value:
                return value
            gevent.sleep(0.01)


def live_greenlet_count() -> int:
    # type(), not isinstance(): isinstance reads obj.__class__, which evaluates lazy
    # objects the collector still holds (a test client's lazy resolver_match raised
    # Resolver404 here when an earlier test in the process had used the client).
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), gevent.Greenlet) and not obj.dead)


def assert_no_greenlets_left(before: int) -> None:
    tracked = [g for g in (*inbound.LIVE_GREENLETS, *manager.LIVE_GREENLETS) if not g.dead]
    assert tracked == []
    wait_for(lambda: live_greenlet_count() <= before, 2.0, "greenlets to finish")
