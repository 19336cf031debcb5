"""The real-FreeSWITCH harness (tests/freeswitch/README.md).

``switch`` (package scope) starts, for all the tests of this folder, the Switchboard web
server and call-control server (``servers.py``) on the test database, and a FreeSWITCH
built from the bundle's ``conf/test`` and ``deploy/freeswitch`` on free ports
(``harness.py``). ``fs`` (per test) gives a test that switch, committed data
(``fs.data``), SIP phones (``fs.sip``), and cleans up after it.

Transactions: FreeSWITCH's requests are answered by other processes, which only see
committed rows, so these tests do not run inside the usual rolled-back transaction. The
test process writes in autocommit through the actions, as production does (after-commit
cache invalidation and node commands happen for real; Celery runs eagerly so the commands
reach the real switch at once), and ``fs`` removes everything afterwards: the tenant
schemas the test created are dropped, the public tables emptied (but for the node row the
call-control server is connected through), the spare-schema pool topped up again.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from switchboard.celery import app as celery_app
from tests import spare_pool
from tests.freeswitch.data import Platform
from tests.freeswitch.harness import (
    LOOPBACK,
    STARTUP_PROPERTY,
    FreeSwitch,
    HarnessError,
    NodeSettings,
    build_conf,
    find_bundle,
    free_port,
    pick_ports,
    port_lock,
)
from tests.freeswitch.servers import CallControlServer, WebServer, server_environment
from tests.freeswitch.sip import Sip

NODE_NAME = "harness"
# Public tables the per-test cleanup keeps: the node the call-control server is connected
# through, and what migrations and post_migrate made (content types, permissions).
KEPT_TABLES = {"fsnodes_freeswitchnode", "django_content_type", "auth_permission", "django_migrations"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every ``freeswitch`` test goes to one xdist worker (``--dist loadgroup``; bin/test
    sets it) so one FreeSWITCH serves them all, and is skipped, loudly, without a bundle.

    The ``django_db(transaction=True)`` mark is what tells pytest-django that the session
    needs the test database (it creates it only for tests that ask); the per-test part of
    that mark is replaced below (``_django_db_helper``) by ``fs``'s own handling."""
    bundle, reason = find_bundle()
    # Without xdist (-p no:xdist) its marker is not registered (--strict-markers).
    grouped = config.pluginmanager.hasplugin("xdist")
    for item in items:
        if item.get_closest_marker("freeswitch") is None:
            continue
        if grouped:
            item.add_marker(pytest.mark.xdist_group("freeswitch"))
        item.add_marker(pytest.mark.django_db(transaction=True))
        if bundle is None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _django_db_helper(request, django_db_setup):
    """pytest-django's per-test wrapper would roll the test's writes back (invisible to the
    servers) or, with ``transaction=True``, flush every table after it -- including the
    node row the call-control server stays connected through. ``fs`` commits and cleans
    up instead (``wipe_committed_data``) and checks that no transaction wraps the test."""
    if request.node.get_closest_marker("freeswitch") is None:
        raise HarnessError("tests/freeswitch holds only tests marked 'freeswitch' (using the fs fixture): "
                           "a database test here would get no transaction to roll back")
    yield


@dataclass
class Node:
    """The running FreeSWITCH and the Switchboard processes it talks to."""

    switch: FreeSwitch
    web: WebServer
    callcontrol: CallControlServer
    base: Path
    # At the xml_curl binding after ``web``'s, not running unless a test starts it.
    second_web: WebServer
    timings: dict[str, float] = field(default_factory=dict)
    timings_reported: bool = False


def _esl_url(ports_event_socket: int, password: str) -> str:
    return f"esl://:{password}@{LOOPBACK}:{ports_event_socket}#{NODE_NAME}"


@pytest.fixture(scope="package")
def switch(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Node]:
    bundle, reason = find_bundle()
    if bundle is None:
        pytest.skip(reason)
    from fsnodes.models import FreeswitchNode
    from fsnodes.nodes import sync_configured_nodes

    started = time.monotonic()
    base = tmp_path_factory.mktemp("freeswitch")
    credentials = f"fsxml:{secrets.token_hex(12)}"
    esl_password = secrets.token_hex(12)
    cleanups: list = []
    try:
        with port_lock():
            taken: set[int] = set()
            ports = pick_ports(taken)
            web_port, callcontrol_port = free_port(taken=taken), free_port(taken=taken)
            second_web_port = free_port(taken=taken)
            web_url = f"http://{LOOPBACK}:{web_port}/freeswitch/"
            node_settings = NodeSettings(ports, web_url, f"http://{LOOPBACK}:{second_web_port}/freeswitch/",
                                         credentials, esl_password, web_url + "cdr/json")
            esl_url = _esl_url(ports.event_socket, esl_password)
            callcontrol_address = f"{LOOPBACK}:{callcontrol_port}"
            overrides = override_settings(FREESWITCH_NODES=[esl_url], CALLCONTROL_SOCKET=callcontrol_address,
                                          FREESWITCH_GATEWAY_CREDENTIALS=credentials)
            overrides.enable()
            cleanups.append(overrides.disable)
            with django_db_blocker.unblock():
                sync_configured_nodes()
            cleanups.append(lambda: _forget_node(django_db_blocker))
            env = server_environment(
                database=connection.settings_dict["NAME"], caches=settings.CACHES,
                media_root=str(settings.MEDIA_ROOT), media_base=str(settings.FREESWITCH_MEDIA_BASE),
                extra={"FREESWITCH_GATEWAY_CREDENTIALS": credentials, "FREESWITCH_NODES": esl_url,
                       "CALLCONTROL_LISTEN": callcontrol_address, "CALLCONTROL_SOCKET": callcontrol_address,
                       "CALLCONTROL_RECORDINGS_DIR": str(base / "recordings"),
                       "CONFERENCE_RECORDINGS_DIR": str(base / "recordings"),
                       "LOG_LEVEL": "INFO"},
            )
            web = WebServer(web_port, env, base / "web.log")
            second_web = WebServer(second_web_port, env, base / "web-2.log")
            cleanups.append(second_web.stop)
            callcontrol = CallControlServer(callcontrol_port, env, base / "callcontrol.log")
            # FreeSWITCH asks the web server for its configuration (sofia.conf) as it starts.
            web.launch()
            cleanups.append(web.stop)
            (base / "freeswitch").mkdir()
            build_conf(bundle, base / "freeswitch", node_settings)
            web.wait_ready()
            web_ready = time.monotonic()
            # The call-control server imports Django while FreeSWITCH starts; its node
            # manager retries (with backoff) until the event socket answers.
            callcontrol.launch()
            cleanups.append(callcontrol.stop)
            fs = FreeSwitch(bundle, base / "freeswitch", node_settings)
            cleanups.append(fs.stop)
            fs.start()
        callcontrol.wait_ready(NODE_NAME)
        node = Node(fs, web, callcontrol, base, second_web, timings={
            "web server ready": web_ready - started,
            "freeswitch ready": fs.start_seconds,
            "all ready": time.monotonic() - started,
        })
        with django_db_blocker.unblock():
            FreeswitchNode.objects.get(name=NODE_NAME)  # the call-control server did not disable it
        yield node
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()


def _forget_node(django_db_blocker) -> None:
    """The node row outlives the per-test cleanup; other tests must not see it."""
    from fsnodes.models import FreeswitchNode

    with django_db_blocker.unblock():
        FreeswitchNode.objects.filter(name=NODE_NAME).delete()


@pytest.fixture
def fs(switch: Node, django_db_blocker, request, tmp_path) -> Iterator[Switch]:
    """One test on the real switch: committed data, SIP phones, and the cleanup."""
    from fsconf.cache import reset_platform_generation

    test_switch = Switch(switch, Sip(switch.switch.bundle, switch.switch.ports.internal_sip,
                                     switch.switch.ports.external_sip, tmp_path))
    request.node._freeswitch = test_switch
    saved_celery = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    if not switch.switch.running:
        raise HarnessError("FreeSWITCH is no longer running\n" + switch.switch.log_tail())
    with django_db_blocker.unblock():
        if connection.in_atomic_block:
            raise HarnessError("this test runs inside a transaction: the FreeSWITCH servers would not see "
                               "its data (did pytest-django's _django_db_helper change?)")
        try:
            leftovers = switch.switch.registrations()
            if leftovers:
                raise HarnessError(f"registrations left from an earlier test: {leftovers}")
            if switch.switch.sessions():
                raise HarnessError(f"calls left from an earlier test: {switch.switch.api('show channels')}")
            reset_platform_generation()
            yield test_switch
        finally:
            celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved_celery
            test_switch.sip.close()
            with contextlib.suppress(Exception):
                switch.switch.hangup_all()
                # Before the wipe: a call record posted after it would land in the next
                # test's (empty) table, a stranger among its records.
                switch.switch.wait_no_sessions()
            with contextlib.suppress(Exception):
                switch.switch.flush_registrations()
            wipe_committed_data()


def wipe_committed_data() -> None:
    """Drop the schemas of every account, empty the public tables (but KEPT_TABLES), top
    the spare pool up: the database as the other tests expect it."""
    from tenants.models import Account
    from tenants.provisioning import drop_tenant_schema

    connection.set_schema_to_public()
    for schema in Account.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list(
            "schema_name", flat=True):
        drop_tenant_schema(schema)
    tables = [name for name in connection.introspection.django_table_names(only_existing=True,
                                                                            include_views=False)
              if name not in KEPT_TABLES]
    tables.append("cdr_callrecord")  # partitioned SQL, not managed by Django (cdr/models.py)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE {} CASCADE".format(", ".join(connection.ops.quote_name(t) for t in tables)))
    spare_pool.fill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test (or a strict xfail that passed) shows what FreeSWITCH, the servers and
    the phones logged meanwhile."""
    outcome = yield
    report = outcome.get_result()
    test_switch = getattr(item, "_freeswitch", None)
    if test_switch is None:
        return
    if call.when == "setup" and not test_switch.node.timings_reported:
        # Shown by the terminal summary (tests/conftest.py), also from an xdist worker.
        test_switch.node.timings_reported = True
        report.user_properties.append((STARTUP_PROPERTY, dict(test_switch.node.timings)))
    if not report.failed or call.when == "teardown":
        return
    for title, text in test_switch.logs_since_start().items():
        report.sections.append((f"{title} ({call.when})", text))


class Switch:
    """What a test gets: the node (``api``, ``registrations``), the data builder and the
    SIP helpers."""

    def __init__(self, node: Node, sip: Sip) -> None:
        self.node = node
        self.switch = node.switch
        self.sip = sip
        self.data = Platform()
        self._log_marks: dict[str, int] = {}
        self.mark_logs()

    def api(self, command: str) -> str:
        return self.switch.api(command)

    def registrations(self) -> list[str]:
        return self.switch.registrations()

    def log(self) -> str:
        """What FreeSWITCH logged since the test started."""
        return self.switch.log_since(self._log_marks["freeswitch"])

    # -- logs --------------------------------------------------------------------------

    def mark_logs(self) -> None:
        self._log_marks = {"freeswitch": self.switch.log_size(), "web": self.node.web.log_size(),
                           "callcontrol": self.node.callcontrol.log_size()}

    def logs_since_start(self) -> dict[str, str]:
        logs = {
            f"FreeSWITCH log {self.switch.log_file}": self.switch.log_since(self._log_marks["freeswitch"]),
            f"web server log {self.node.web.log_file}": self.node.web.log_since(self._log_marks["web"]),
            f"call-control log {self.node.callcontrol.log_file}":
                self.node.callcontrol.log_since(self._log_marks["callcontrol"]),
        }
        for path in self.sip.logs:
            if path.exists():
                logs[f"sipp {path.name}"] = path.read_text(errors="replace")[-20_000:]
        return logs
