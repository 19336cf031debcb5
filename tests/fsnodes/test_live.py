"""fsnodes.live: what the nodes say for the dashboard. The answers are parsed as mod_commands
and mod_sofia write them (the registrations from the captured answers), filtered per
tenant, shared between tenants for a few seconds, and a node that does not answer is not
asked again, for any command, until its period is over."""

from __future__ import annotations

import pytest

from fsnodes import live
from fsnodes.inbound import NodeUnavailable
from fsnodes.models import FreeswitchNode
from tests.fakes.freeswitch_esl import REGISTRATIONS_CAPTURE

REGISTRATIONS = "sofia xmlstatus profile internal reg"
CAPTURED = (REGISTRATIONS_CAPTURE / "xmlstatus-reg.xml").read_text()
CAPTURED_AFTER_FLUSH = (REGISTRATIONS_CAPTURE / "xmlstatus-reg-after-flush.xml").read_text()
# The core table at the same moment: the flushed phones still in it.
CORE_AFTER_FLUSH = (REGISTRATIONS_CAPTURE / "show-registrations-after-flush.json").read_text()


class Node:
    """Stands in for a node's event socket: answers from a table, or is away; counts."""

    def __init__(self, answers: dict[str, str] | None = None) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def api(self, node, command: str, timeout: float | None = None) -> str:
        self.asked.append(command)
        if self.answers is None:
            raise NodeUnavailable("node fs-a is not connected")
        return self.answers[command]


@pytest.fixture
def node(db):
    live.clear_cache()
    row = FreeswitchNode(name="fs-a", host="127.0.0.1", esl_port=8021)
    row.set_esl_password("x")
    row.save()
    yield row
    live.clear_cache()


def test_the_json_answers_parse_as_mod_commands_writes_them():
    assert live.parse_rows('{"row_count": 0}\n') == []
    assert live.parse_rows('{"row_count":1,"rows":[{"reg_user":"1001"}]}') == [{"reg_user": "1001"}]
    assert live.parse_rows("-ERR Cannot find format xml\n") is None
    assert live.parse_rows('["not", "a", "result"]') is None


def test_sofias_answer_parses_as_mod_sofia_writes_it():
    rows = live.parse_sofia_registrations(CAPTURED, now=1796652484)
    assert [(r["user"], r["agent"], r["network-port"], r["expires"]) for r in rows] == [
        ("1001@acme.example.net", "sipp-capture/3.6.1", "12405", 1796652843),
        ("1001-2@acme.example.net", "sipp-capture/3.6.1", "10362", 1796652844),
        ("1002@acme.localhost", "sipp-capture/3.6.1", "11492", 1796652844),
        ("1001@beta.example.net", "sipp-capture/3.6.1", "10762", 1796652844)]
    assert rows[0]["contact"] == '"" <sip:1001@127.0.0.1:15384>'  # unescaped
    assert live.parse_sofia_registrations("Invalid Profile!\n") is None
    assert live.parse_sofia_registrations("-ERR no reply\n") is None
    # A Call-ID is written unescaped: one phone's odd Call-ID leaves the others readable.
    odd = CAPTURED.replace("<call-id>1-11424@127.0.0.1</call-id>", "<call-id>a<b&c@x</call-id>")
    assert len(live.parse_sofia_registrations(odd)) == 4


def test_answers_are_shared_for_a_few_seconds_and_filtered_per_tenant(node):
    client = Node({REGISTRATIONS: CAPTURED})
    acme, _ = live.registrations(["ACME.example.net", "acme.localhost"], client)
    beta, answers = live.registrations(["beta.example.net"], client)
    assert [(r.user, r.realm, r.address, r.transport, r.user_agent, r.node) for r in acme] == [
        ("1001", "acme.example.net", "127.0.0.1:12405", "udp", "sipp-capture/3.6.1", "fs-a"),
        ("1001-2", "acme.example.net", "127.0.0.1:10362", "udp", "sipp-capture/3.6.1", "fs-a"),
        ("1002", "acme.localhost", "127.0.0.1:11492", "udp", "sipp-capture/3.6.1", "fs-a")]
    assert [r.realm for r in beta] == ["beta.example.net"] and answers.unreachable == []
    assert client.asked == [REGISTRATIONS]  # one question for both tenants


def test_phones_flushed_from_sofia_are_not_listed(node):
    """After ``flush_inbound_reg acme.example.net`` sofia no longer lists its phones
    (captured), while the core table (``show registrations``) still did."""
    assert {row["realm"] for row in live.parse_rows(CORE_AFTER_FLUSH)} >= {"acme.example.net"}
    client = Node({REGISTRATIONS: CAPTURED_AFTER_FLUSH})
    acme, answers = live.registrations(["acme.example.net"], client)
    assert acme == [] and answers.unreachable == []
    assert [r.realm for r in live.registrations(["acme.localhost"], client)[0]] == ["acme.localhost"]


def test_a_node_away_is_asked_once_per_period_whatever_the_command(node):
    client = Node(None)
    phones, answers = live.registrations(["acme.example.net"], client)
    calls, call_answers = live.calls(["acme.example.net"], [], client)
    assert (phones, calls) == ([], [])
    assert answers.unreachable == call_answers.unreachable == ["fs-a"]
    assert client.asked == [REGISTRATIONS]  # the calls were not asked of a node just found away
    client.answers = {REGISTRATIONS: CAPTURED_AFTER_FLUSH, live.CALLS: '{"row_count": 0}'}
    assert live.registrations(["acme.example.net"], client)[1].unreachable == ["fs-a"]
    live.clear_cache()  # the period over
    assert live.registrations(["acme.example.net"], client)[1].unreachable == []
