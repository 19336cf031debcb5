from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.celery import app as celery_app
from tests.webhooks.receiver import Receiver


@pytest.fixture
def eager():
    """Celery runs a queued task at once in this process (a retry's countdown is left to
    the sweep: webhooks.delivery._schedule)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def local_targets(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_RETRY_DELAYS = (0.05, 0.05, 0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
