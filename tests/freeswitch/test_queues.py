"""Call queues on the real switch: mod_callcenter dials an agent's contact
(pbx.queues.contact, ``user/<number>@<domain>`` alone, not beside other legs), so the
directory's dial-string rings every device of the agent's extension."""

from __future__ import annotations

import pytest

from pbx.actions.queues import Agent, do_create_queue, do_set_queue_agents

pytestmark = pytest.mark.freeswitch


def test_a_queue_call_rings_every_device_of_its_agent(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    agent = acme.extension("1005", devices=2)
    queue = do_create_queue(acme.account, number="6000", name="Support", agent_ring_seconds=5)
    do_set_queue_agents(acme.account, queue, [Agent(agent.pk)])
    phones = [fs.sip.phone(name, "acme.example.net", acme.secret(name)) for name in ("1005", "1005-2")]

    call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "6000", hold_ms=2500)

    assert call.final_status("INVITE") == 200, call.describe()  # the queue answers the caller
    assert [len(phone.wait_for_invites(1, timeout=3)) for phone in phones] == [1, 1], fs.log()[-4000:]
    assert "Only calling the first element" not in fs.log()
