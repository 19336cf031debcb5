"""The call-queue agent codes' app, driven by the fake FreeSWITCH against real tenant
queues: the change is saved and queued for every node, then confirmed to the caller."""

from __future__ import annotations

from django.test.utils import override_settings

from callcontrol.apps.common import not_in_service_prompt
from callcontrol.apps.queue_agent import LOGGED_IN, PAUSED
from fsnodes.models import FreeswitchNode, NodeCommand
from pbx.actions import Agent, do_create_queue, do_set_queue_agents
from pbx.models import QueueAgent
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    apps_of,
    args_of,
    dial,
    domain_of,
    hangups,
    in_schema,
    pbx,  # noqa: F401 (fixture)
)
from tests.pbx.routing_helpers import extension


@override_settings(FREESWITCH_NODES=[])
def test_login_is_saved_sent_to_every_node_and_confirmed(pbx, tree):  # noqa: F811
    node = FreeswitchNode(name="fs-a", host="127.0.0.1")
    node.set_esl_password("ClueCon")
    node.save()
    alice = extension(tree.c1, "1001", "Alice")
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(alice, login_required=True)])
    call = dial(pbx, tree.c1, "queue_agent", f"login:{alice.pk}")
    finish(pbx, call)
    assert apps_of(call) == ["answer", "playback"] and args_of(call, "playback") == [LOGGED_IN]
    assert hangups(call) == ["NORMAL_CLEARING"]
    assert in_schema(tree.c1, lambda: QueueAgent.objects.get(queue=queue).logged_in) is True
    agent = f"agent-{queue.pk}-{alice.pk}@{domain_of(tree.c1)}"
    assert NodeCommand.objects.filter(node=node).last().command == (
        f"callcenter_config agent set status {agent} 'Available'")

    call = dial(pbx, tree.c1, "queue_agent", f"pause:{alice.pk}")
    finish(pbx, call)
    assert args_of(call, "playback") == [PAUSED]
    assert in_schema(tree.c1, lambda: QueueAgent.objects.get(queue=queue).paused) is True


def test_an_extension_that_is_no_agent_or_anothers_hears_it_cannot_be_done(pbx, tree):  # noqa: F811
    alice = extension(tree.c1, "1001", "Alice")
    for ref in (f"login:{alice.pk}", f"login:{alice.pk + 1000}", "dance:1", "login:"):
        call = dial(pbx, tree.c1, "queue_agent", ref)
        finish(pbx, call)
        assert args_of(call, "playback") == [not_in_service_prompt()], ref
        assert hangups(call) == ["UNALLOCATED_NUMBER"]
