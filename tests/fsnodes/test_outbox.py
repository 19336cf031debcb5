"""The outbox: commands are queued with the change that needs them, delivered after
commit to a (fake) FreeSWITCH, retried with backoff while it cannot be reached, in order,
once. Nothing of ours is mocked: real PostgreSQL, real Celery (eager, or a broker that is
down), real sockets."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from fsnodes import tasks
from fsnodes.delivery import deliver_node, deliver_pending, retry_delay
from fsnodes.models import NodeCommand
from fsnodes.queue import enqueue, enqueue_many
from tests.fakes.freeswitch_esl import FakeFreeswitch

FLUSH = "xml_flush_cache id 1001 acme.example.net"
Status = NodeCommand.Status


def test_rollback_queues_nothing(make_node, fake_fs, django_capture_on_commit_callbacks):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
            enqueue(FLUSH)
            assert NodeCommand.objects.count() == 1
            raise RuntimeError("the change failed")
    assert NodeCommand.objects.count() == 0
    assert callbacks == []
    assert fake_fs.received == []


def test_commit_delivers_and_records_the_reply(make_node, fake_fs, eager_celery,
                                               django_capture_on_commit_callbacks):
    node = make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue(FLUSH)
        assert fake_fs.received == []  # nothing leaves before the commit
    assert fake_fs.api_commands == [FLUSH]
    command = NodeCommand.objects.get()
    assert command.status == Status.DONE
    assert command.reply == "+OK cleared 0 entries"
    assert command.delivered_at is not None and command.attempts == 0
    node.refresh_from_db()
    assert node.last_seen_at is not None and node.last_error == ""


def test_node_down_keeps_the_command_and_backs_off_until_it_is_up(
        make_node, eager_celery, django_capture_on_commit_callbacks):
    fake = FakeFreeswitch(start=False)  # nothing listens on its port
    node = make_node(fake)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(FLUSH)
    command = NodeCommand.objects.get()
    assert command.status == Status.PENDING and command.attempts == 1
    assert "cannot connect" in command.last_error
    first_retry = command.next_attempt_at
    assert timedelta(seconds=0.5) < first_retry - timezone.now() <= timedelta(seconds=1)
    node.refresh_from_db()
    assert "cannot connect" in node.last_error

    # Not due yet: a sweep right now does not even try.
    assert deliver_pending() == 0
    command.refresh_from_db()
    assert command.attempts == 1

    # Due, still down: the wait doubles.
    later = first_retry + timedelta(milliseconds=10)
    assert deliver_pending(now=later) == 0
    command.refresh_from_db()
    assert command.attempts == 2
    assert command.next_attempt_at == later + timedelta(seconds=2)

    fake.start()
    try:
        assert deliver_pending(now=command.next_attempt_at) == 1
    finally:
        fake.stop()
    command.refresh_from_db()
    assert command.status == Status.DONE and command.reply == "+OK cleared 0 entries"
    assert fake.api_commands == [FLUSH]
    node.refresh_from_db()
    assert node.last_error == "" and node.last_seen_at is not None


def test_backoff_doubles_up_to_five_minutes():
    assert [retry_delay(n).total_seconds() for n in range(1, 12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300,
    ]
    assert retry_delay(10_000) == timedelta(minutes=5)


def test_order_is_kept_and_younger_commands_wait_behind_an_older_retry(
        make_node, eager_celery, django_capture_on_commit_callbacks):
    fake = FakeFreeswitch(start=False)
    node = make_node(fake)
    first = [f"xml_flush_cache id 100{i} acme.example.net" for i in range(1, 4)]
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many(first)
    assert set(NodeCommand.objects.values_list("attempts", flat=True)) == {1}
    retry_at = NodeCommand.objects.first().next_attempt_at

    fake.start()
    try:
        # A new change commits while the older commands wait for their retry time: its
        # delivery task runs, FreeSWITCH is up, and still nothing may overtake them.
        with django_capture_on_commit_callbacks(execute=True):
            enqueue("xml_flush_cache id 2001 beta.example.net")
        assert fake.received == []

        assert deliver_node(node.pk, now=retry_at) == 4
    finally:
        fake.stop()
    assert fake.api_commands == [*first, "xml_flush_cache id 2001 beta.example.net"]
    assert set(NodeCommand.objects.values_list("status", flat=True)) == {Status.DONE}


def test_every_enabled_node_gets_the_command(make_node, fake_fs, second_fs, eager_celery,
                                             django_capture_on_commit_callbacks):
    make_node(fake_fs, name="fs-a")
    make_node(second_fs, name="fs-b")
    third = FakeFreeswitch()
    make_node(third, name="fs-off", enabled=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rows = enqueue(FLUSH)
    finally:
        third.stop()
    assert len(rows) == 2
    assert fake_fs.api_commands == [FLUSH]
    assert second_fs.api_commands == [FLUSH]
    assert third.received == []
    assert sorted(NodeCommand.objects.values_list("node__name", "status")) == [
        ("fs-a", Status.DONE), ("fs-b", Status.DONE),
    ]


def test_enqueue_for_chosen_nodes(make_node, fake_fs, second_fs):
    make_node(fake_fs, name="fs-a")
    b = make_node(second_fs, name="fs-b")
    rows = enqueue(FLUSH, nodes=[b])
    assert [row.node_id for row in rows] == [b.pk]


def test_wrong_password_is_recorded_and_retried(make_node, eager_celery,
                                                django_capture_on_commit_callbacks):
    with FakeFreeswitch(password="the-real-one") as fake:
        node = make_node(fake, password="ClueCon")
        with django_capture_on_commit_callbacks(execute=True):
            enqueue(FLUSH)
        command = NodeCommand.objects.get()
        assert command.status == Status.PENDING and command.attempts == 1
        assert "refused the event-socket password (-ERR invalid)" in command.last_error
        node.refresh_from_db()
        assert "-ERR invalid" in node.last_error
        assert [r.command for r in fake.received] == ["auth ClueCon"]

        node.set_esl_password("the-real-one")
        node.save()
        assert deliver_pending(now=command.next_attempt_at) == 1
        assert fake.api_commands == [FLUSH]
    command.refresh_from_db()
    assert command.status == Status.DONE and command.attempts == 1


def test_err_answer_fails_the_command_for_good_and_the_queue_moves_on(
        make_node, fake_fs, eager_celery, django_capture_on_commit_callbacks, caplog):
    bad = "xml_flush_cache id 1001"
    fake_fs.api_replies[bad] = "-ERR no such user\n"
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many([bad, FLUSH])
    failed, done = NodeCommand.objects.order_by("id")
    assert failed.status == Status.FAILED
    assert failed.reply == failed.last_error == "-ERR no such user"
    assert failed.delivered_at is not None and failed.attempts == 0
    assert done.status == Status.DONE
    assert "refused 'xml_flush_cache id 1001': -ERR no such user" in caplog.text

    # Never again, whatever runs later.
    assert deliver_pending(now=timezone.now() + timedelta(days=1)) == 0
    assert fake_fs.api_commands == [bad, FLUSH]


def test_slow_answer_times_out_and_is_sent_again(make_node, fake_fs):
    node = make_node(fake_fs)
    enqueue_many([FLUSH, "xml_flush_cache id 1002 acme.example.net"])
    fake_fs.reply_delay = 0.6
    assert deliver_node(node.pk, reply_timeout=0.2) == 0
    first, second = NodeCommand.objects.order_by("id")
    assert first.status == second.status == Status.PENDING
    assert "no api/response" in first.last_error
    assert first.attempts == second.attempts == 1  # the session gave neither an answer

    fake_fs.reply_delay = 0
    assert deliver_node(node.pk, now=first.next_attempt_at) == 2
    # At least once: FreeSWITCH may have run the first one already (it is idempotent).
    assert fake_fs.api_commands == [FLUSH, FLUSH, "xml_flush_cache id 1002 acme.example.net"]


def test_broker_down_loses_nothing_the_sweep_delivers(make_node, fake_fs, broker_down,
                                                      django_capture_on_commit_callbacks, caplog):
    make_node(fake_fs)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(FLUSH)  # the on-commit hand-off to Celery fails, and the commit stands
    assert "the deliver_pending sweep will send them" in caplog.text
    assert fake_fs.received == []
    assert NodeCommand.objects.get().status == Status.PENDING

    tasks.deliver_pending.apply()  # the periodic task, run here
    assert fake_fs.api_commands == [FLUSH]
    assert NodeCommand.objects.get().status == Status.DONE


def test_disabled_node_keeps_its_queue(make_node, fake_fs):
    node = make_node(fake_fs)
    enqueue(FLUSH)
    node.enabled = False
    node.save()
    assert deliver_pending() == 0
    assert deliver_node(node.pk) == 0
    assert fake_fs.received == []
    assert NodeCommand.objects.get().status == Status.PENDING


def test_a_command_with_a_line_break_is_refused(make_node, fake_fs):
    make_node(fake_fs)
    with pytest.raises(ValueError):
        enqueue("xml_flush_cache id 1001 acme.example.net\n\napi shutdown")
    assert NodeCommand.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_send_each_command_once_in_order(make_node):
    """Two workers deliver the same node at the same moment (the on-commit task and the
    sweep): the node's row lock (SKIP LOCKED) lets one send, the other skips."""
    with FakeFreeswitch() as fake:
        fake.reply_delay = 0.05  # keep the first session open while the second arrives
        node = make_node(fake)
        commands = [f"xml_flush_cache id {1000 + i} acme.example.net" for i in range(10)]
        # Written directly: enqueue() would also hand the node to Celery on commit.
        NodeCommand.objects.bulk_create([NodeCommand(node=node, command=c) for c in commands])
        barrier = threading.Barrier(3)
        results: dict[str, int] = {}
        finished: dict[str, float] = {}
        errors: list[BaseException] = []

        def worker(name: str, run) -> None:
            try:
                barrier.wait(timeout=5)
                results[name] = run()
                finished[name] = time.monotonic()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=worker, args=("task-1", lambda: deliver_node(node.pk))),
            threading.Thread(target=worker, args=("task-2", lambda: deliver_node(node.pk))),
            threading.Thread(target=worker, args=("sweep", deliver_pending)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert fake.api_commands == commands
        assert sorted(results.values()) == [0, 0, 10]
        # The others skipped the locked node at once rather than waiting for the session.
        sender = next(name for name, count in results.items() if count)
        assert all(finished[name] < finished[sender] for name in results if name != sender)
        assert fake.connections == 1
    assert set(NodeCommand.objects.values_list("status", flat=True)) == {Status.DONE}

