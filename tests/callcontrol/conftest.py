"""Fixtures for call-control tests: the real server on a free port, calls from the fake
FreeSWITCH (tests/fakes/freeswitch_outbound.py), and the leak checks."""

from __future__ import annotations

import gevent
import pytest

from callcontrol.server import CallControlServer, live_greenlets
from tests.fakes.freeswitch_outbound import FakeCall


class Harness:
    def __init__(self) -> None:
        self.apps: dict = {}
        self.results: dict = {}
        self.server = CallControlServer(("127.0.0.1", 0), self.apps, handshake_timeout=2.0)
        self.calls: list[FakeCall] = []

    def app(self, name: str):
        """Register a test app: ``@harness.app("x") def x(session): ...``."""
        def decorator(fn):
            self.apps[name] = fn
            return fn
        return decorator

    def call(self, app: str | None = None, **kwargs) -> FakeCall:
        variables = dict(kwargs.pop("variables", {}))
        if app is not None:
            variables["switchboard_app"] = app
        call = FakeCall(self.server.address, variables=variables, **kwargs)
        self.calls.append(call)
        return call

    def wait_idle(self, timeout: float = 3.0) -> None:
        """Until every call's connection greenlet has finished."""
        with gevent.Timeout(timeout, AssertionError(f"sessions left: {self.server.sessions}")):
            while self.server.sessions or len(self.server.pool) or live_greenlets():
                gevent.sleep(0.01)

    def assert_no_leaks(self) -> None:
        self.wait_idle()
        assert self.server.sessions == {}
        assert len(self.server.pool) == 0
        assert live_greenlets() == []


@pytest.fixture
def harness():
    h = Harness()
    h.server.start()
    try:
        yield h
        h.assert_no_leaks()
    finally:
        for call in h.calls:
            call.cleanup()
        h.server.stop(timeout=1)
