"""Call queues and their agents through the API (pbx/api/views/queues.py)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.actions import do_create_queue
from pbx.models import CallQueue, QueueAgent
from tenants.actions import do_create_staff_user
from tenants.models import Account, Role
from tests.conftest import PASSWORD, Tree
from tests.pbx.routing_helpers import extension, last_event
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestCallQueuesApi(ObjectApiTests):
    basename = "call-queue"
    extra_routes = ("call-queue-agents",)
    path = "call-queues"
    model = CallQueue
    audit_name = "queue"
    create_data = {"number": "5000", "name": "Sales", "strategy": "ring-all", "max_wait_seconds": 120}
    update_data = {"name": "Sales line", "agent_wrap_up_seconds": 15}
    invalid_data = {"strategy": "whoever"}
    invalid_field = "strategy"
    list_queries = 9
    supervisor_writes = True

    def make(self, account: Account, index: int) -> CallQueue:
        return do_create_queue(account, number=f"50{index:02d}", name=f"Queue {index}")

    def test_agents_are_set_and_read_back_and_refused_outside(self, tree: Tree):
        queue = self.make(tree.c1, 1)
        alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
        url = accounts_url(tree.c1, "call-queues", queue.pk, "agents")
        api = Api(token=key_for(tree.user("c1_admin")))
        put = api.send("put", url, {"agents": [{"extension": bob.pk, "level": 1},
                                               {"extension": alice.pk, "level": 2, "login_required": True}]})
        assert put.status_code == 200, body(put)
        assert body(api.send("get", url)) == {"agents": [
            {"extension": bob.pk, "level": 1, "position": 1, "login_required": False, "logged_in": False,
             "paused": False},
            {"extension": alice.pk, "level": 2, "position": 2, "login_required": True, "logged_in": False,
             "paused": False}]}
        theirs = extension(tree.c2, "1500")
        refused = api.send("put", url, {"agents": [{"extension": theirs.pk + 100}]})
        assert refused.status_code == 400
        assert Api(token=key_for(tree.user("c2_admin"))).send("get", url).status_code == 404
        readonly = Api(token=key_for(tree.user("r1_readonly")))
        assert readonly.send("put", url, {"agents": []}).status_code == 403
        with schema_context(tree.c1.schema_name):
            assert QueueAgent.objects.count() == 2
        # The call-center supervisor sets them (a read-only key of theirs does not).
        supervisor = do_create_staff_user(tree.user("r1_admin"), account=tree.c1, username="c1_supervisor",
                                          password=PASSWORD, role=Role.SUPERVISOR)
        keyed = Api(token=key_for(supervisor, read_only=True))
        assert keyed.send("put", url, {"agents": []}).status_code == 403
        put = Api(token=key_for(supervisor)).send("put", url,
                                                  {"agents": [{"extension": alice.pk, "level": 3}]})
        assert put.status_code == 200, body(put)
        assert [(a["extension"], a["level"]) for a in body(put)["agents"]] == [(alice.pk, 3)]
        assert last_event(tree.c1, "queue.agents").actor == supervisor
