"""SIP password guessing (issue 16): sofia's ``sofia::register_failure`` events, framed as
mod_event_socket frames them, counted per SIP user and per source address; blocks start
at the threshold, end by time or by an admin, are audited, and make the directory answer
not-found to the covered ``sip_auth`` lookups only."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from esl.framing import Parser
from fsnodes.auth_guard import AuthGuard, end_expired_blocks
from fsnodes.models import AuthBlock
from tenants.models import AuditEvent
from tests.fakes.freeswitch_esl import FakeFreeswitch, event_template, frame_event, rewrite
from tests.fsnodes.manager_helpers import wait_for


def failure_headers(user: str, host: str, ip: str, method: str = "REGISTER") -> list[tuple[str, str]]:
    """The event sofia_reg.c fires on a 403 (its headers in its order, after the common
    ones every event carries)."""
    common = [(n, v) for n, v in event_template("BACKGROUND_JOB")
              if not n.startswith(("Job-", "Event-Calling"))]
    return [*rewrite(common, {"Event-Name": "CUSTOM"}), ("Event-Subclass", "sofia::register_failure"),
            ("profile-name", "internal"), ("to-user", user), ("to-host", host), ("network-ip", ip),
            ("user-agent", "friendly-scanner"), ("profile-name", "internal"), ("network-port", "5060"),
            ("registration-type", method)]


def framed(user: str, host: str, ip: str, method: str = "REGISTER"):
    """The message our event-socket parser makes of mod_event_socket's bytes."""
    parser = Parser()
    parser.feed(frame_event(failure_headers(user, host, ip, method)))
    message = parser.next()
    assert message is not None and parser.next() is None
    return message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guard():
    clock = Clock()
    guard = AuthGuard(user_failures=3, address_failures=5, window=60, block_seconds=300, clock=clock)
    guard.clock_ = clock
    return guard


def fail(guard, times, user="1001", host="c1.example.net", ip="198.51.100.7", method="REGISTER"):
    for _ in range(times):
        guard.on_event(None, framed(user, host, ip, method))


def user_blocks():
    return list(AuthBlock.objects.filter(kind=AuthBlock.Kind.USER))


def test_the_event_is_read_from_mod_event_socket_framing():
    message = framed("1001", "C1.Example.NET", "198.51.100.7", "INVITE")
    assert message.event["Event-Subclass"] == "sofia::register_failure"
    assert message.event["to-host"] == "C1.Example.NET" and message.event["registration-type"] == "INVITE"


def test_a_user_is_blocked_at_the_threshold_in_its_account(tree, guard, caplog):
    caplog.set_level(logging.WARNING, logger="fsnodes.auth_guard")
    fail(guard, 2)
    assert user_blocks() == []
    fail(guard, 1, host="C1.localhost", method="INVITE")  # an alias of the same account, any case
    (block,) = user_blocks()
    assert (block.account_id, block.user_id, block.failures, str(block.address)) == (
        tree.c1.pk, "1001", 3, "198.51.100.7")
    assert timedelta(seconds=299) < block.expires_at - block.started_at <= timedelta(seconds=301)
    audit = AuditEvent.objects.get(action="sip_auth.block")
    assert audit.account_id == tree.c1.pk and audit.details["user"] == "1001"
    assert "sip auth failure: user 1001@c1.example.net from 198.51.100.7 (REGISTER, profile internal)" \
        in caplog.text
    assert "sip auth block: user 1001@c1.localhost blocked for 300 s after 3 failures" in caplog.text


def test_counts_are_per_user_and_leave_the_window(tree, guard):
    fail(guard, 2, user="1001")
    fail(guard, 2, user="1002")
    fail(guard, 2, user="1001", host="c2.example.net")  # beta's 1001 is another user
    assert user_blocks() == []
    guard.clock_.now += 61  # the first failures leave the window
    fail(guard, 2, user="1001")
    assert user_blocks() == []
    fail(guard, 1, user="1001")
    assert [b.user_id for b in user_blocks()] == ["1001"]


def test_failures_while_blocked_do_not_renew_the_block(tree, guard):
    fail(guard, 3)
    fail(guard, 10)  # the block's own refusals
    assert len(user_blocks()) == 1
    assert AuditEvent.objects.filter(action="sip_auth.block", account=tree.c1).count() == 1


def test_an_unknown_host_counts_only_for_the_address(tree, guard):
    fail(guard, 4, host="nobody.example.org")
    assert AuthBlock.objects.count() == 0
    fail(guard, 1, user="9999", host="nobody.example.org")
    (block,) = AuthBlock.objects.all()
    assert block.kind == AuthBlock.Kind.ADDRESS and str(block.address) == "198.51.100.7"
    assert block.account is None


def test_address_counts_span_users_and_tenants(tree, guard):
    fail(guard, 2, user="1001")
    fail(guard, 2, user="1002", host="c2.example.net")
    assert not AuthBlock.objects.filter(kind=AuthBlock.Kind.ADDRESS).exists()
    fail(guard, 1, user="2000")
    assert AuthBlock.objects.filter(kind=AuthBlock.Kind.ADDRESS, address="198.51.100.7").count() == 1


def test_an_event_without_a_usable_address_is_ignored(tree, guard):
    fail(guard, 10, ip="not-an-ip")
    assert AuthBlock.objects.count() == 0


def test_expired_blocks_end_and_are_audited(tree, guard):
    fail(guard, 3)
    AuthBlock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert end_expired_blocks() == 1
    (block,) = user_blocks()
    assert block.cleared_by == "expired" and block.cleared_at == block.expires_at
    assert AuditEvent.objects.get(action="sip_auth.unblock").details["ended"] == "expired"
    assert end_expired_blocks() == 0


# -- through the node manager ----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_manager_subscribes_counts_and_ends_blocks(make_node, start_manager, settings, caplog):
    settings.SIP_AUTH_ADDRESS_FAILURES = 4
    caplog.set_level(logging.WARNING, logger="fsnodes.auth_guard")
    with FakeFreeswitch() as fake:
        make_node(fake)
        manager = start_manager(guard_auth=True, guard_interval=0.05, resync_conferences=False,
                                drain_outbox=False)
        wait_for(lambda: fake.subscribed >= 1, what="the subscription")
        assert any(r.command.endswith("CUSTOM conference::maintenance sofia::register_failure")
                   for r in fake.received)
        for _ in range(4):
            fake.emit(failure_headers("1001", "nobody.example.org", "198.51.100.9"))
        block = wait_for(lambda: AuthBlock.objects.filter(address="198.51.100.9").first(),
                         what="the address block")
        assert block.failures == 4 and block.active
        AuthBlock.objects.update(expires_at=timezone.now())
        wait_for(lambda: AuthBlock.objects.filter(cleared_by="expired").exists(), what="the sweep")
        assert manager.auth_guard is not None
    assert "sip auth block: address 198.51.100.9 blocked for 900 s after 4 failures" in caplog.text


def fail2ban_regex(name: str) -> re.Pattern:
    """The filter's failregex as fail2ban compiles it (<HOST> is an address group)."""
    filters = Path(__file__).resolve().parents[2] / "deploy" / "fail2ban" / "filter.d"
    text = (filters / f"{name}.conf").read_text()
    (line,) = [x for x in text.splitlines() if x.startswith("failregex")]
    return re.compile(line.split("=", 1)[1].strip().replace("<HOST>", r"(?P<host>[0-9a-fA-F.:]+)"))


def test_the_fail2ban_filters_match_the_lines_logged(tree, guard, caplog):
    caplog.set_level(logging.WARNING, logger="fsnodes.auth_guard")
    fail(guard, 5, user="9999", host="nobody.example.org", ip="198.51.100.77")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records]
    failures = [m for line in lines if (m := fail2ban_regex("switchboard-sip").search(line))]
    blocks = [m for line in lines if (m := fail2ban_regex("switchboard-sip-block").search(line))]
    assert [m["host"] for m in failures] == ["198.51.100.77"] * 5
    assert [m["host"] for m in blocks] == ["198.51.100.77"]
