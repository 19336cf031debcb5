"""Call queues (mod_callcenter): settings checked by field, agents, the queue as a
destination everywhere, loops and deleting, the agent feature codes, and what every
write tells the running FreeSWITCH nodes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from fsnodes.models import FreeswitchNode, NodeCommand
from pbx.actions import (
    Agent,
    do_create_extension,
    do_create_ivr,
    do_create_queue,
    do_create_ring_group,
    do_delete_extension,
    do_delete_queue,
    do_set_agent_status,
    do_set_follow_me,
    do_set_ivr_options,
    do_set_queue_agents,
    do_update_extension,
    do_update_queue,
    do_update_ring_group,
)
from pbx.destinations import choices
from pbx.models import CallQueue, MediaStatus, Prompt, QueueAgent
from pbx.signals import callcenter_changed
from tenants.actions import do_create_staff_user
from tenants.models import Role
from tenants.scoping import NotInSubtree
from tests.conftest import PASSWORD
from tests.pbx.routing_helpers import exists, extension, last_event, padded, ref, refused, reload

C1 = "c1.example.net"


@pytest.fixture
def told():
    """The callcenter_config commands the actions send, per account, in order."""
    seen: list[tuple[int, list[str]]] = []

    def receiver(sender, account, commands, **kwargs):
        seen.append((account.pk, list(commands)))

    callcenter_changed.connect(receiver)
    yield seen
    callcenter_changed.disconnect(receiver)


@pytest.fixture
def staff(tree):
    return {number: extension(tree.c1, number) for number in ("1001", "1002", "1003")}


def agents_of(account, queue) -> list[tuple[str, int, int, bool, bool, bool]]:
    with schema_context(account.schema_name):
        return [(a.extension.number, a.level, a.position, a.login_required, a.logged_in, a.paused)
                for a in QueueAgent.objects.filter(queue_id=queue.pk).select_related("extension")]


def names(queue, extension_) -> tuple[str, str]:
    return f"queue-{queue.pk}@{C1}", f"agent-{queue.pk}-{extension_.pk}@{C1}"


def test_create_a_queue_and_its_agents(tree, staff, told):
    queue = do_create_queue(tree.c1, number="5000", name="Sales", strategy="ring-all",
                            max_wait_seconds=120, fallback=ref(staff["1003"]), exit_key="0")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"]), Agent(staff["1002"].pk, level=2),
                                         Agent(staff["1003"], login_required=True, position=7)])
    assert agents_of(tree.c1, queue) == [("1001", 1, 1, False, False, False),
                                         ("1003", 1, 7, True, False, False),
                                         ("1002", 2, 2, False, False, False)]
    stored = reload(tree.c1, queue)
    assert (stored.strategy, stored.max_wait_seconds, stored.exit_key) == ("ring-all", 120, "0")
    assert last_event(tree.c1, "queue.create").details == {"number": "5000", "name": "Sales"}
    assert last_event(tree.c1, "queue.agents").details == {"number": "5000",
                                                           "agents": ["1001", "1002", "1003"]}
    name = f"queue-{queue.pk}@{C1}"
    assert told == [(tree.c1.pk, [f"queue reload {name}"]), (tree.c1.pk, [f"queue reload {name}"])]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"strategy": "loudest-first"}, "strategy", "Value 'loudest-first' is not a valid choice."),
    ({"max_wait_seconds": 86401}, "max_wait_seconds", "Ensure this value is less than or equal to 86400."),
    ({"agent_ring_seconds": 4}, "agent_ring_seconds", "Ensure this value is greater than or equal to 5."),
    ({"announcement_seconds": 5}, "announcement_seconds",
     "Ensure this value is greater than or equal to 10."),
    ({"exit_key": "x"}, "exit_key", "A key is 0-9, * or #."),
    ({"caller_id_name_prefix": "Sales\n"}, "caller_id_name_prefix",
     "Remove control characters (such as tabs or line breaks)."),
    ({"time_base_score": "forever"}, "time_base_score", "Value 'forever' is not a valid choice."),
    ({"fallback": "ring_group:4242"}, "fallback", "That ring group no longer exists."),
    ({"number": "*62"}, "number", "Numbers starting with * are feature codes."),
    ({"moh_group": 4242}, "moh_group", "That moh group does not exist."),
    ({"colour": "red"}, "colour", "This field cannot be set here."),
])
def test_settings_are_checked_by_field(tree, fields, field, message):
    fields = {"number": "5000", **fields}
    with refused(field) as error:
        do_create_queue(tree.c1, name="Sales", **fields)
    assert message in error.messages
    with schema_context(tree.c1.schema_name):
        assert not CallQueue.objects.exists()


def test_prompts_must_be_ready_and_the_tenants_own(tree):
    with schema_context(tree.c1.schema_name):
        pending = Prompt.objects.create(name="placed in queue", upload="x.wav", status=MediaStatus.PENDING)
    with refused("greeting") as error:
        do_create_queue(tree.c1, number="5000", name="Sales", greeting=pending)
    assert error.messages == ["The recording “placed in queue” is not ready to play yet."]
    with refused("announcement"):
        do_create_queue(tree.c2, number="5000", name="Sales", announcement=pending.pk + 1000)


def test_the_number_is_in_the_numbering_plan(tree, staff):
    with refused("number") as error:
        do_create_queue(tree.c1, number="1001", name="Sales")
    assert error.messages == ["1001 is already used by Extension 1001 User 1001."]
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    with refused("number") as error:
        do_create_ring_group(tree.c1, number="5000", name="Sales group")
    assert error.messages == ["5000 is already used by Call queue 5000 Sales."]
    with refused("number"):
        do_update_queue(tree.c1, queue, number="1002")


def test_the_fallback_cannot_be_the_queue_or_lead_back_to_it(tree, staff):
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    with refused("fallback") as error:
        do_update_queue(tree.c1, queue, fallback=ref(queue))
    assert error.messages == ["A queue cannot send calls to itself."]
    group = do_create_ring_group(tree.c1, number="2000", name="Overflow", fallback=ref(queue))
    with refused("fallback") as error:
        do_update_queue(tree.c1, queue, fallback=ref(group))
    assert error.messages == ["This would send calls round in a loop: Call queue 5000 Sales → "
                              "Ring group 2000 Overflow → Call queue 5000 Sales."]
    assert reload(tree.c1, queue).fallback == ""


def test_agents_are_extensions_of_the_tenant_once_each(tree, staff):
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"])])
    with refused("agents") as error:
        do_set_queue_agents(tree.c1, queue, [Agent(4242), Agent(staff["1002"]), Agent(staff["1002"]),
                                             Agent(staff["1003"], level=0), Agent("")])
    assert error.messages == ["Agent 1: That extension does not exist.",
                              "Agent 3: Extension 1002 is already an agent of this queue.",
                              "Agent 4: Ensure this value is greater than or equal to 1.",
                              "Agent 5: Choose an extension."]
    assert agents_of(tree.c1, queue) == [("1001", 1, 1, False, False, False)]


def test_another_tenant_cannot_take_an_extension_into_its_queue(tree):
    """From the attacker's side: beta names acme's extension by its pk; the pk is looked
    up in beta's schema only, so it finds nothing there (acme's pks are padded apart)."""
    padded(tree.c1, 3)
    victim = extension(tree.c1, "1001", "Victim")
    queue = do_create_queue(tree.c2, number="5000", name="Sales")
    with schema_context(tree.c2.schema_name):
        from pbx.models import Extension

        assert not Extension.objects.filter(pk=victim.pk).exists()
    with refused("agents") as error:
        do_set_queue_agents(tree.c2, queue, [Agent(victim), Agent(victim.pk)])
    assert error.messages == ["Agent 1: That extension does not exist.",
                              "Agent 2: That extension does not exist."]
    with refused("fallback"):
        do_update_queue(tree.c2, queue, fallback=ref(victim))
    acme_queue = do_create_queue(tree.c1, number="5000", name="Acme sales")
    with pytest.raises(CallQueue.DoesNotExist):
        do_update_queue(tree.c2, CallQueue(pk=acme_queue.pk + 1000), name="Owned")


def test_a_new_agent_list_keeps_logins_and_drops_who_left(tree, staff, told):
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"], login_required=True), Agent(staff["1002"])])
    do_set_agent_status(tree.c1, staff["1001"], "login")
    told.clear()
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1003"]), Agent(staff["1001"], login_required=True)])
    assert agents_of(tree.c1, queue) == [("1003", 1, 1, False, False, False),
                                         ("1001", 1, 2, True, True, False)]
    queue_name, gone = names(queue, staff["1002"])
    assert told == [(tree.c1.pk, [f"tier del {queue_name} {gone}", f"agent del {gone}",
                                  f"queue reload {queue_name}"])]


def test_the_agent_codes_log_in_out_pause_and_resume(tree, staff, told):
    sales = do_create_queue(tree.c1, number="5000", name="Sales")
    support = do_create_queue(tree.c1, number="5001", name="Support")
    do_set_queue_agents(tree.c1, sales, [Agent(staff["1001"], login_required=True)])
    do_set_queue_agents(tree.c1, support, [Agent(staff["1001"])])
    told.clear()
    _, in_sales = names(sales, staff["1001"])
    _, in_support = names(support, staff["1001"])
    assert [m.queue.number for m in do_set_agent_status(tree.c1, staff["1001"], "login")] == ["5000"]
    assert told[-1][1] == [f"agent set status {in_sales} 'Available'"]
    do_set_agent_status(tree.c1, staff["1001"], "pause")
    assert sorted(told[-1][1]) == [f"agent set status {in_sales} 'On Break'",
                                   f"agent set status {in_support} 'On Break'"]
    do_set_agent_status(tree.c1, staff["1001"], "unpause")
    assert sorted(told[-1][1]) == [f"agent set status {in_sales} 'Available'",
                                   f"agent set status {in_support} 'Available'"]
    do_set_agent_status(tree.c1, staff["1001"], "pause")
    do_set_agent_status(tree.c1, staff["1001"], "logout")  # the static membership stays in, paused
    assert told[-1][1] == [f"agent set status {in_sales} 'Logged Out'"]
    assert sorted(agents_of(tree.c1, sales) + agents_of(tree.c1, support)) == [
        ("1001", 1, 1, False, False, True), ("1001", 1, 1, True, False, False)]
    assert last_event(tree.c1, "queue_agent.logout").details == {"extension": "1001", "queues": ["5000"]}
    told.clear()
    assert do_set_agent_status(tree.c1, staff["1002"], "login") == []  # no agent: nothing happens
    assert told == []


def test_deleting_a_queue_a_route_uses_is_refused(tree, staff, told):
    from pbx.numbers import do_assign_number, do_import_numbers, do_route_number

    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"])])
    menu = do_create_ivr(tree.c1, name="Main")
    do_set_ivr_options(tree.c1, menu, {"4": ref(queue)})
    (number,) = do_import_numbers(tree.user("master_admin"), ["+14165550100"])
    number = do_assign_number(tree.user("master_admin"), number, tree.r1)
    number = do_assign_number(tree.user("r1_admin"), number, tree.c1)
    do_route_number(tree.c1, number, route=ref(queue))
    with refused() as error:
        do_delete_queue(tree.c1, queue)
    assert error.messages == ["Call queue 5000 Sales is still used by: Auto attendant (IVR) Main key 4 "
                              "(destination); Phone number +14165550100. Change those routes first."]
    do_set_ivr_options(tree.c1, menu, {})
    do_route_number(tree.c1, number, route="")
    told.clear()
    do_delete_queue(tree.c1, queue)
    assert not exists(tree.c1, queue)
    queue_name, agent = names(queue, staff["1001"])
    assert told == [(tree.c1.pk, [f"tier del {queue_name} {agent}", f"agent del {agent}",
                                  f"queue unload {queue_name}"])]


def test_deleting_an_extension_takes_it_out_of_its_queues(tree, staff, told):
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"]), Agent(staff["1002"])])
    told.clear()
    do_delete_extension(tree.c1, staff["1002"])
    assert agents_of(tree.c1, queue) == [("1001", 1, 1, False, False, False)]
    queue_name, agent = names(queue, staff["1002"])
    assert told == [(tree.c1.pk, [f"tier del {queue_name} {agent}", f"agent del {agent}"])]
    # Renumbering or disabling an agent changes its contact or status: the queue reloads.
    do_update_extension(tree.c1, staff["1001"], number="1011")
    do_update_extension(tree.c1, staff["1001"], name="Alice")
    assert told[1:] == [(tree.c1.pk, [f"queue reload {queue_name}"])]


@pytest.mark.parametrize("where", ["r1", "c1"])
def test_a_call_center_supervisor_writes_queues_and_their_agents_and_nothing_else(tree, staff, told, where):
    """Seed 002: the supervisor "is allowed to only manipulate the call center queues",
    in its own account or one below (a reseller's supervisor in its customer's)."""
    supervisor = do_create_staff_user(tree.user("r1_admin"), account=getattr(tree, where),
                                      username="supervisor", password=PASSWORD, role=Role.SUPERVISOR)
    queue = do_create_queue(tree.c1, number="5000", name="Sales", actor=supervisor, ip="198.51.100.9")
    do_update_queue(tree.c1, queue, name="Sales line", actor=supervisor)
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"]), Agent(staff["1002"], level=2)],
                        actor=supervisor)
    assert agents_of(tree.c1, queue) == [("1001", 1, 1, False, False, False),
                                         ("1002", 2, 2, False, False, False)]
    for action in ("queue.create", "queue.update", "queue.agents"):
        assert last_event(tree.c1, action).actor == supervisor
    assert last_event(tree.c1, "queue.create").ip == "198.51.100.9"
    do_delete_queue(tree.c1, queue, actor=supervisor)
    assert not exists(tree.c1, queue)
    assert last_event(tree.c1, "queue.delete").actor == supervisor
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    for write in (lambda: do_create_extension(tree.c1, number="1009", name="Ida", actor=supervisor),
                  lambda: do_update_extension(tree.c1, staff["1001"], name="Alice", actor=supervisor),
                  lambda: do_create_ring_group(tree.c1, number="2001", name="Support", actor=supervisor),
                  lambda: do_update_ring_group(tree.c1, group, name="Sales 2", actor=supervisor),
                  lambda: do_create_ivr(tree.c1, name="Main", actor=supervisor)):
        with pytest.raises(PermissionDenied, match=r"^Your role is read-only\.$"):
            write()
    # Another tenant's queues stay out of reach.
    theirs = do_create_queue(tree.c2, number="5000", name="Theirs")
    with pytest.raises(NotInSubtree):
        do_update_queue(tree.c2, theirs, name="Mine", actor=supervisor)
    assert reload(tree.c2, theirs).name == "Theirs"


def test_every_route_chooser_offers_the_queue(tree, staff):
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    with schema_context(tree.c1.schema_name):
        assert ("Call queue", [(ref(queue), "Call queue 5000 Sales")]) in choices()
    do_update_extension(tree.c1, staff["1001"], forward_no_answer=True, forward_no_answer_to=ref(queue))
    group = do_create_ring_group(tree.c1, number="2000", name="Overflow", fallback=ref(queue))
    menu = do_create_ivr(tree.c1, name="Main", exit_destination=ref(queue))
    do_set_follow_me(tree.c1, staff["1002"], fallback=ref(queue),
                     steps=[{"ring_seconds": 10, "targets": [ref(staff["1002"])]}])
    from pbx.actions import do_create_schedule

    do_create_schedule(tree.c1, name="Hours", open_destination=ref(queue))
    assert reload(tree.c1, group).fallback == reload(tree.c1, menu).exit_destination == ref(queue)


def test_each_node_gets_the_commands_in_the_writes_transaction(tree, staff, settings):
    settings.FREESWITCH_NODES = []
    node = FreeswitchNode(name="fs-a", host="127.0.0.1")
    node.set_esl_password("ClueCon")
    node.save()
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    do_set_queue_agents(tree.c1, queue, [Agent(staff["1001"], login_required=True)])
    do_set_agent_status(tree.c1, staff["1001"], "login")
    queue_name, agent = names(queue, staff["1001"])
    assert list(NodeCommand.objects.filter(node=node).values_list("command", flat=True)) == [
        f"callcenter_config queue reload {queue_name}", f"callcenter_config queue reload {queue_name}",
        f"callcenter_config agent set status {agent} 'Available'"]
