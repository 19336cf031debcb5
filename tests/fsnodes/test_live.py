"""fsnodes.live: what the nodes say for the dashboard. The answers are parsed as mod_commands
writes them, filtered per tenant, shared between tenants for a few seconds, and a node
that does not answer is not asked again, for any command, until its period is over."""

from __future__ import annotations

import json

import pytest

from fsnodes import live
from fsnodes.inbound import NodeUnavailable
from fsnodes.models import FreeswitchNode


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


def test_answers_are_shared_for_a_few_seconds_and_filtered_per_tenant(node):
    rows = [{"reg_user": "1001", "realm": "acme.example.net", "network_ip": "192.0.2.1",
             "network_port": "5060", "network_proto": "udp", "expires": "1765000000", "metadata": "Yealink"},
            {"reg_user": "1001", "realm": "beta.example.net", "network_ip": "192.0.2.2"}]
    client = Node({live.REGISTRATIONS: json.dumps({"row_count": 2, "rows": rows})})
    acme, _ = live.registrations(["ACME.example.net"], client)
    beta, answers = live.registrations(["beta.example.net"], client)
    assert [(r.user, r.realm, r.address, r.user_agent, r.node) for r in acme] == [
        ("1001", "acme.example.net", "192.0.2.1:5060", "Yealink", "fs-a")]
    assert [r.realm for r in beta] == ["beta.example.net"] and answers.unreachable == []
    assert client.asked == [live.REGISTRATIONS]  # one question for both tenants


def test_a_node_away_is_asked_once_per_period_whatever_the_command(node):
    client = Node(None)
    phones, answers = live.registrations(["acme.example.net"], client)
    calls, call_answers = live.calls(["acme.example.net"], [], client)
    assert (phones, calls) == ([], [])
    assert answers.unreachable == call_answers.unreachable == ["fs-a"]
    assert client.asked == [live.REGISTRATIONS]  # the calls were not asked of a node just found away
    client.answers = {live.REGISTRATIONS: '{"row_count": 0}', live.CALLS: '{"row_count": 0}'}
    assert live.registrations(["acme.example.net"], client)[1].unreachable == ["fs-a"]
    live.clear_cache()  # the period over
    assert live.registrations(["acme.example.net"], client)[1].unreachable == []
