"""A Celery worker in the test process on a queue of its own, for the tests that go through
the real broker (CELERY_BROKER_URL): another worker on the same broker (CI's, another xdist
worker's) cannot take the messages, and nothing is left queued for later runs."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from switchboard.celery import app as celery_app

needs_broker = pytest.mark.skipif(
    not celery_app.conf.broker_url.startswith(("amqp://", "pyamqp://", "redis://")),
    reason="needs a real Celery broker (CELERY_BROKER_URL)")


def _set_routes(routes) -> None:
    # Celery builds its router once, from the routes of its first publish (the cached
    # ``amqp.router``): changing conf.task_routes alone sent a later test's tasks to an
    # earlier test's queue, where no worker listened any more.
    celery_app.conf.task_routes = routes
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


@contextlib.contextmanager
def worker_for(*task_patterns: str) -> Iterator[str]:
    """Route tasks named by ``task_patterns`` ("webhooks.*") to a fresh queue and run a
    solo worker consuming it; yields the queue's name."""
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    saved = celery_app.conf.task_routes
    _set_routes({pattern: {"queue": queue} for pattern in task_patterns})
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue],
                          shutdown_timeout=60):
            yield queue
    finally:
        _set_routes(saved)
