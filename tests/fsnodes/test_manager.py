"""The inbound connection manager against fake FreeSWITCH nodes (real sockets, real
PostgreSQL; nothing of ours is mocked): connect, authenticate, subscribe, reconnect with
backoff, api / bgapi with timeouts, fail fast while a node is away, drain the outbox when
it comes back, survive malformed events, and leave no greenlet behind."""

from __future__ import annotations

import logging
from datetime import timedelta

import gevent
import pytest
from django.utils import timezone

from esl.client import ESLDisconnected, ESLTimeout
from fsnodes.inbound import Backoff, JobTimeout, NodeUnavailable
from fsnodes.manager import OneShotClient, OriginateFailed, UnknownNode, get_client
from fsnodes.models import Conference, FreeswitchNode, NodeCommand
from tests.fakes.freeswitch_esl import CAPTURED_PASSWORD, FakeFreeswitch
from tests.fsnodes.manager_helpers import wait_for

SUBSCRIPTION = ("event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB HEARTBEAT "
                "CUSTOM conference::maintenance")
FLUSH = "xml_flush_cache id 1001 acme.example.net"


def connected(manager, name="fs-a"):
    return wait_for(lambda: manager.connection(name).connected, what=f"{name} to connect")


def test_connects_authenticates_subscribes_and_takes_the_conference_snapshot(
        make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    wait_for(lambda: len(fake_fs.received) >= 3)
    assert [r.command for r in fake_fs.received][:3] == ["auth ClueCon", SUBSCRIPTION, "api conference list"]
    node.refresh_from_db()
    assert node.last_seen_at is not None and node.last_error == ""
    assert get_client() is manager
    assert manager.api("fs-a", FLUSH) == "+OK cleared 0 entries\n"
    assert manager.api(node, "status").startswith("UP 0 years")  # the captured answer
    assert manager.api(node.pk, "nosuchcommand") == "-ERR nosuchcommand Command not found!\n"


def test_backoff_grows_with_jitter_and_is_capped():
    backoff = Backoff(base=0.5, cap=30)
    assert [backoff.ceiling(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(3, rand=lambda: 0.0) == 1.0  # never below half the ceiling
    assert backoff.delay(3, rand=lambda: 1.0) == 2.0


def test_wrong_password_is_reported_and_retried_with_backoff(make_node, start_manager, caplog):
    fake = FakeFreeswitch(password="the-real-one")
    try:
        node = make_node(fake)  # configured with the captured password: refused
        manager = start_manager()
        connection = manager.connection(node)
        wait_for(lambda: connection.failures >= 4, what="four refused attempts")
        assert "refused the event-socket password (-ERR invalid)" in connection.last_error
        backoff = connection.backoff
        for attempt, delay in enumerate(connection.delays[:4], start=1):
            ceiling = backoff.ceiling(attempt)
            assert ceiling / 2 <= delay <= ceiling
        assert {r.command for r in fake.received} == {"auth ClueCon"}  # nothing else was ever sent
        with pytest.raises(NodeUnavailable, match=r"not connected .*refused the event-socket password"):
            manager.api(node, "status")
        node.refresh_from_db()
        assert "refused the event-socket password" in node.last_error
        assert "refused the event-socket password" in caplog.text
    finally:
        fake.stop()


def test_reconnects_after_a_drop_and_subscribes_again(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connection = connected(manager) and manager.connection(node)
    fake_fs.drop_connections()
    wait_for(lambda: connection.connects == 2 and connection.connected, what="the reconnection")
    assert connection.delays and connection.delays[-1] <= connection.backoff.ceiling(1)
    assert [r.command for r in fake_fs.received].count(SUBSCRIPTION) == 2
    assert fake_fs.subscribed == 1
    assert manager.api(node, FLUSH).startswith("+OK")


def test_a_node_that_is_down_is_retried_until_it_comes_up(make_node, start_manager):
    fake = FakeFreeswitch(start=False)
    node = make_node(fake)
    manager = start_manager()
    connection = manager.connection(node)
    try:
        wait_for(lambda: connection.failures >= 5, what="five failed attempts")
        assert "cannot connect" in connection.last_error
        ceilings = [connection.backoff.ceiling(n) for n in range(1, 6)]
        assert ceilings == [0.02, 0.04, 0.08, 0.16, 0.16]
        assert all(c / 2 <= d <= c for c, d in zip(ceilings, connection.delays, strict=False))
        fake.start()
        wait_for(lambda: connection.connected, what="the node to come up")
        assert manager.api(node, FLUSH).startswith("+OK")
    finally:
        fake.stop()


def test_interactive_commands_fail_fast_while_durable_ones_wait_in_the_outbox(
        make_node, start_manager, broker_down):
    fake = FakeFreeswitch(start=False)
    node = make_node(fake)
    manager = start_manager()
    wait_for(lambda: manager.connection(node).failures >= 1)
    with pytest.raises(NodeUnavailable, match="node fs-a is not connected"):
        manager.api(node, "status", timeout=30)  # at once, not after 30 s
    with pytest.raises(NodeUnavailable):
        manager.originate("user/1001@acme.example.net")
    manager.enqueue(FLUSH)
    command = NodeCommand.objects.get()
    assert command.node_id == node.pk and command.status == NodeCommand.Status.PENDING
    with pytest.raises(UnknownNode):
        manager.api("no-such-node", "status")


def test_api_timeout_and_the_late_answer_is_not_given_to_the_next_command(
        make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    fake_fs.slow_commands["status"] = 0.5
    with pytest.raises(ESLTimeout, match=r"no answer to 'api status' within 0.1 s"):
        manager.api(node, "status", timeout=0.1)
    # FreeSWITCH answers in order: this one waits for the slow one, and must get its own answer.
    assert manager.api(node, FLUSH) == "+OK cleared 0 entries\n"
    assert manager.connection(node).connects == 1  # the connection was kept


def test_a_command_never_answered_drops_the_connection(make_node, fake_fs, start_manager, caplog):
    node = make_node(fake_fs)
    manager = start_manager(wedge_timeout=0.2, check_interval=0.05)
    connection = connected(manager) and manager.connection(node)
    fake_fs.slow_commands["status"] = 3.0
    with pytest.raises(ESLTimeout):
        manager.api(node, "status", timeout=0.05)
    wait_for(lambda: connection.connects == 2, what="the reconnection")
    assert "no answer to 'api status' for 0.2 s" in caplog.text


def test_pipelined_commands_from_several_greenlets_get_their_own_answers(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    commands = [f"xml_flush_cache id {n} acme.example.net" for n in range(20)] + ["status", "nosuchcommand"]
    jobs = [gevent.spawn(manager.api, node, c) for c in commands]
    gevent.joinall(jobs, raise_error=True)
    answers = [j.value for j in jobs]
    assert answers[:20] == ["+OK cleared 0 entries\n"] * 20
    assert answers[20].startswith("UP 0 years") and answers[21].startswith("-ERR nosuchcommand")


def test_bgapi_result_comes_from_background_job_matched_by_job_uuid(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    fake_fs.api_replies["expand 1"] = "one\n"
    fake_fs.api_replies["expand 2"] = "two\n"
    first = gevent.spawn(manager.bgapi, node, "expand 1")
    second = gevent.spawn(manager.bgapi, node, "expand 2")
    status = manager.bgapi(node, "status")
    assert (first.get(), second.get()) == ("one\n", "two\n")
    assert status.startswith("UP 0 years, 0 days, 0 hours, 0 minutes, 10 seconds")  # captured body
    sent = [r for r in fake_fs.received if r.command.startswith("bgapi ")]
    assert len({r.headers["Job-UUID"] for r in sent}) == 3


def test_bgapi_whose_job_never_finishes_times_out(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    fake_fs.hold_jobs = True
    with pytest.raises(JobTimeout, match="may still run") as error:
        manager.bgapi(node, "status", timeout=0.2)
    sent = [r for r in fake_fs.received if r.command == "bgapi status"]
    assert error.value.job_uuid == sent[0].headers["Job-UUID"]
    fake_fs.hold_jobs = False
    assert manager.bgapi(node, "status").startswith("UP")


def test_bgapi_waiting_when_the_node_drops_fails_at_once(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    fake_fs.hold_jobs = True
    job = gevent.spawn(manager.bgapi, node, "status", 30)
    wait_for(lambda: any(r.command == "bgapi status" for r in fake_fs.received))
    fake_fs.drop_connections()
    with pytest.raises(ESLDisconnected, match=r"connection lost.*may still run"):
        job.get(timeout=5)


def test_originate_returns_the_new_calls_uuid(make_node, fake_fs, start_manager):
    node = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    call_uuid = manager.originate("user/1001@acme.example.net", "&park()", node=node, timeout=20,
                                  variables={"origination_caller_id_number": "1002"})
    sent = next(r.command for r in fake_fs.received if r.command.startswith("bgapi originate"))
    assert sent == (f"bgapi originate {{origination_uuid={call_uuid},originate_timeout=20,"
                    "origination_caller_id_number=1002}user/1001@acme.example.net &park()")
    fake_fs.originate_result = "-ERR NO_ANSWER\n"
    with pytest.raises(OriginateFailed, match="NO_ANSWER") as error:
        manager.originate("user/1002@acme.example.net", "1001 XML acme.example.net")
    assert error.value.cause == "NO_ANSWER" and error.value.call_uuid


@pytest.mark.parametrize("kwargs", [
    {"dial_string": "user/1001@acme.example.net &park()"},
    {"dial_string": "user/1001", "variables": {"x": "a,b"}},
    {"dial_string": "user/1001", "variables": {"x}": "1"}},
    {"dial_string": "user/1001", "destination": "&park()\n\napi shutdown"},
])
def test_originate_refuses_what_could_change_the_command(make_node, fake_fs, start_manager, kwargs):
    make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    with pytest.raises(ValueError):
        manager.originate(**kwargs)
    assert not [r for r in fake_fs.received if "originate" in r.command]


@pytest.mark.django_db(transaction=True)
def test_the_outbox_is_drained_when_the_node_comes_back(make_node, start_manager):
    fake = FakeFreeswitch(start=False)
    node = make_node(fake)
    # Queued while the node was away, waiting for a retry minutes from now.
    waiting = NodeCommand.objects.create(node=node, command=FLUSH, attempts=4,
                                         next_attempt_at=timezone.now() + timedelta(minutes=5))
    manager = start_manager()
    try:
        wait_for(lambda: manager.connection(node).failures >= 1)
        fake.start()
        wait_for(lambda: manager.drains >= 1, what="the drain")
        waiting.refresh_from_db()
        assert waiting.status == NodeCommand.Status.DONE and waiting.reply == "+OK cleared 0 entries"
        assert fake.api_commands.count(FLUSH) == 1
    finally:
        manager.stop()
        fake.stop()


def test_malformed_events_are_logged_and_ignored(make_node, fake_fs, start_manager, caplog):
    node = make_node(fake_fs)
    manager = start_manager()
    connection = connected(manager) and manager.connection(node)
    seen = []
    manager.add_listener(lambda conn, message: seen.append(message.event_name))
    with caplog.at_level(logging.WARNING):
        # A header block that is not headers, an event body that is not headers, a
        # conference event without a usable Member-ID.
        fake_fs.send_raw(b"this is not a header line\n\n")
        bad_body = b"Event-Name CUSTOM no colon\n\n"
        fake_fs.send_raw(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(bad_body) + bad_body)
        no_member = (b"Event-Name: CUSTOM\nEvent-Subclass: conference%3A%3Amaintenance\n"
                     b"Conference-Name: x\nAction: add-member\n\n")
        fake_fs.send_raw(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(no_member)
                         + no_member)
        fake_fs.heartbeat()
        wait_for(lambda: "HEARTBEAT" in seen, what="the heartbeat after the garbage")
    assert connection.protocol_errors == 2 and connection.connects == 1
    assert "skipped a malformed message" in caplog.text
    assert "without a valid Member-ID" in caplog.text
    assert Conference.objects.count() == 0
    assert manager.api(node, FLUSH).startswith("+OK")


def test_an_unreadable_stream_reconnects(make_node, fake_fs, start_manager, caplog):
    node = make_node(fake_fs)
    manager = start_manager()
    connection = connected(manager) and manager.connection(node)
    fake_fs.send_raw(b"Content-Length: lots\n\n")
    wait_for(lambda: connection.connects == 2 and connection.connected, what="the reconnection")
    assert "unreadable stream" in caplog.text


def test_a_silent_connection_is_dropped_after_the_idle_timeout(make_node, fake_fs, start_manager):
    make_node(fake_fs)
    manager = start_manager(idle_timeout=0.2)
    connection = connected(manager) and manager.connection("fs-a")
    wait_for(lambda: connection.connects >= 2, what="the idle connection to be replaced")
    assert fake_fs.connections >= 2


def test_nodes_are_read_again_from_the_table(make_node, fake_fs, second_fs, start_manager):
    first = make_node(fake_fs)
    manager = start_manager()
    connected(manager)
    second = make_node(second_fs, name="fs-b")
    manager.refresh_nodes()
    connected(manager, "fs-b")
    FreeswitchNode.objects.filter(pk=first.pk).update(enabled=False)
    manager.refresh_nodes()
    assert [c.name for c in manager.connections.values()] == ["fs-b"]
    wait_for(lambda: fake_fs.subscribed == 0, what="fs-a's connection to close")
    second.esl_port = fake_fs.port  # moved: reconnect to the new address
    second.save()
    manager.refresh_nodes()
    wait_for(lambda: fake_fs.subscribed == 1, what="fs-b on its new address")


def test_without_a_manager_commands_use_a_short_session(make_node, fake_fs):
    make_node(fake_fs)
    client = get_client()
    assert isinstance(client, OneShotClient)
    assert client.api("fs-a", FLUSH) == "+OK cleared 0 entries\n"
    assert [r.command for r in fake_fs.received] == [f"auth {CAPTURED_PASSWORD}", f"api {FLUSH}", "exit"]
