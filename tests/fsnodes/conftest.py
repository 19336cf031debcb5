"""Fixtures for the FreeSWITCH node outbox: fake FreeSWITCH servers, nodes pointing at
them, and Celery running tasks in the calling thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsnodes.models import FreeswitchNode
from switchboard.celery import app as celery_app
from tests.fakes.freeswitch_esl import CAPTURED_PASSWORD, FakeFreeswitch


@pytest.fixture(autouse=True)
def _no_configured_nodes(settings):
    """Only the nodes a test creates (a FREESWITCH_NODES in the developer's environment
    must not add any)."""
    settings.FREESWITCH_NODES = []


@pytest.fixture
def fake_fs() -> Iterator[FakeFreeswitch]:
    with FakeFreeswitch() as fake:
        yield fake


@pytest.fixture
def second_fs() -> Iterator[FakeFreeswitch]:
    with FakeFreeswitch() as fake:
        yield fake


def create_node(fake: FakeFreeswitch, name: str = "fs-a", password: str = CAPTURED_PASSWORD,
                **fields) -> FreeswitchNode:
    node = FreeswitchNode(name=name, host="127.0.0.1", esl_port=fake.port, **fields)
    node.set_esl_password(password)
    node.save()
    return node


@pytest.fixture
def make_node(db):
    """``make_node(fake, name=..., password=...)``: a node whose event socket is ``fake``."""
    return create_node


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run at once in the calling thread (after commit, from enqueue's on_commit)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def broker_down(monkeypatch) -> Iterator[None]:
    """Celery publishes to a broker address where nothing listens: a broker outage. The
    app's pools were built from the configured URL on first use, so they are set aside for
    the test and put back after it. Celery reads CELERY_BROKER_URL from the environment
    before its own setting (as CI sets it), so both point at the dead address."""
    conf = celery_app.conf
    dead = "amqp://guest:guest@127.0.0.1:1//"
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    saved = conf.broker_url, conf.broker_connection_timeout, celery_app._pool, celery_app.amqp._producer_pool
    conf.broker_url, conf.broker_connection_timeout = dead, 0.5
    celery_app._pool = celery_app.amqp._producer_pool = None
    yield
    conf.broker_url, conf.broker_connection_timeout, celery_app._pool, celery_app.amqp._producer_pool = saved


@pytest.fixture
def start_manager(db):
    """``start_manager(**options)``: a NodeManager on the nodes in the table, with short
    timeouts and backoff; stopped after the test, which then checks that it left no
    greenlet behind."""
    from tests.fsnodes.manager_helpers import assert_no_greenlets_left, live_greenlet_count, make_manager

    before = live_greenlet_count()
    managers = []

    def start(**options):
        manager = make_manager(**options).start()
        managers.append(manager)
        return manager

    yield start
    for manager in managers:
        manager.stop()
    assert_no_greenlets_left(before)
