"""Conference registry and control: the registry follows conference::maintenance events
from two fake nodes, each control command reaches the hosting node, and a tenant can never
see or touch another tenant's conference (the attacker-side tests at the end)."""

from __future__ import annotations

import pytest

from fsnodes import conferences
from fsnodes.conference_registry import apply_event, conference_name, parse_conference_name, parse_list
from fsnodes.conferences import (
    CommandFailed,
    ConferenceNotFound,
    MemberNotFound,
    NodeUnreachable,
)
from fsnodes.models import Conference
from tests.fakes.freeswitch_esl import captured_connections
from tests.fsnodes.manager_helpers import wait_for

C1_ROOM = "3000-c1.example.net"
C2_ROOM = "4000-c2.example.net"


@pytest.fixture
def two_nodes(tree, make_node, fake_fs, second_fs, start_manager):
    make_node(fake_fs, name="fs-a")
    make_node(second_fs, name="fs-b")
    manager = start_manager()
    for name in ("fs-a", "fs-b"):
        wait_for(lambda name=name: manager.connection(name).connected)
    wait_for(lambda: fake_fs.subscribed and second_fs.subscribed)
    return manager


def members_of(account, room):
    """The room's members by id; none while the room is not (yet) known."""
    try:
        return {m.member_id: m for m in conferences.list_members(account, room)}
    except ConferenceNotFound:
        return {}


def test_conference_names_are_room_dash_domain():
    assert conference_name("3000", "Acme.Example.Net") == "3000-acme.example.net"
    assert parse_conference_name("3000-acme.example.net") == ("3000", "acme.example.net")
    assert parse_conference_name("3000-my-co.example.net") == ("3000", "my-co.example.net")
    for bad in ("3000", "lobby@default", "3000 kick all-acme.example.net", "-acme.example.net"):
        assert parse_conference_name(bad) is None
    with pytest.raises(ValueError):
        conference_name("30-00", "acme.example.net")


def test_the_captured_list_answer_parses():
    reply = next(e.reply for e in captured_connections()["session"].exchanges
                 if e.command == "api conference 3000-acme.example.net list")
    body = reply.partition(b"\n\n")[2].decode()
    header = "+OK Conference 3000-acme.example.net (2 members rate: 8000 flags: running)\n"
    members = parse_list(header + body)[0].members
    assert [(m.member_id, m.uuid, m.caller_id_number, m.can_hear, m.can_speak) for m in members] == [
        (2, "d8e11989-aa3a-4366-8a09-8eadbbb9dc6b", "0000000000", True, True),
        (1, "9619cc89-a108-4178-9454-25b53e087796", "0000000000", True, True),
    ]
    assert parse_list("-ERR Conference nosuch not found\n") is None


def test_registry_follows_events_across_two_nodes(two_nodes, tree, fake_fs, second_fs):
    alice = fake_fs.join(C1_ROOM, caller_id_name="Alice", caller_id_number="1001")
    bob = fake_fs.join(C1_ROOM, caller_id_name="Bob", caller_id_number="1002", moderator=True)
    carol = second_fs.join(C2_ROOM, caller_id_name="Carol", caller_id_number="1001")
    wait_for(lambda: Conference.objects.count() == 2 and len(conferences.list_conferences(tree.c2)) == 1
             and len(conferences.list_members(tree.c1, "3000")) == 2)

    [room] = conferences.list_conferences(tree.c1)
    assert (room.room, room.name, room.node) == ("3000", C1_ROOM, "fs-a")
    assert not room.locked and not room.recording
    people = members_of(tree.c1, "3000")
    assert (people[alice].caller_id_name, people[alice].caller_id_number, people[alice].moderator) == (
        "Alice", "1001", False)
    assert people[bob].moderator and not people[bob].muted
    [other] = conferences.list_conferences(tree.c2)
    assert (other.node, [m.member_id for m in other.members]) == ("fs-b", [carol])

    fake_fs.leave(C1_ROOM, alice, hangup=True)
    wait_for(lambda: set(members_of(tree.c1, "3000")) == {bob})
    fake_fs.leave(C1_ROOM, bob)
    wait_for(lambda: not Conference.objects.filter(name=C1_ROOM).exists(), what="conference-destroy")
    with pytest.raises(ConferenceNotFound):
        conferences.list_members(tree.c1, "3000")
    assert [c.room for c in conferences.list_conferences(tree.c2)] == ["4000"]


def test_each_control_command_goes_to_the_hosting_node(two_nodes, tree, fake_fs, second_fs):
    first = fake_fs.join(C1_ROOM)
    second = fake_fs.join(C1_ROOM)
    second_fs.join(C2_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=second).exists())

    def sent():
        return fake_fs.api_commands[-1]

    result = conferences.mute(tree.c1, "3000", first)
    assert (result.node, result.reply) == ("fs-a", f"+OK mute {first}")
    assert sent() == f"conference {C1_ROOM} mute {first}"
    wait_for(lambda: members_of(tree.c1, "3000")[first].muted, what="mute-member")
    assert conferences.unmute(tree.c1, "3000", first).reply == f"+OK unmute {first}"
    wait_for(lambda: not members_of(tree.c1, "3000")[first].muted, what="unmute-member")
    assert conferences.deaf(tree.c1, "3000", first).reply == f"+OK deaf {first}"
    wait_for(lambda: members_of(tree.c1, "3000")[first].deaf, what="deaf-member")
    assert conferences.undeaf(tree.c1, "3000", first).reply == f"+OK undeaf {first}"
    wait_for(lambda: not members_of(tree.c1, "3000")[first].deaf, what="undeaf-member")

    assert conferences.lock(tree.c1, "3000").reply == f"+OK {C1_ROOM} locked"
    wait_for(lambda: conferences.list_conferences(tree.c1)[0].locked, what="lock")
    assert conferences.unlock(tree.c1, "3000").reply == f"+OK {C1_ROOM} unlocked"
    wait_for(lambda: not conferences.list_conferences(tree.c1)[0].locked, what="unlock")

    started = conferences.start_recording(tree.c1, "3000")
    path = sent().split(" record ", 1)[1]
    assert path.startswith(f"/var/lib/freeswitch/recordings/conferences/{tree.c1.schema_name}/3000-")
    assert started.reply == f"Record file {path}"
    wait_for(lambda: conferences.list_conferences(tree.c1)[0].recording, what="start-recording")
    assert conferences.stop_recording(tree.c1, "3000").reply == f"Stopped recording file {path}"
    assert sent() == f"conference {C1_ROOM} norecord all"
    wait_for(lambda: not conferences.list_conferences(tree.c1)[0].recording, what="stop-recording")

    assert conferences.kick(tree.c1, "3000", second).reply == f"+OK kicked {second}"
    wait_for(lambda: set(members_of(tree.c1, "3000")) == {first}, what="kick + del-member")
    assert second_fs.api_commands == ["conference list"]  # nothing went to the other node


def test_the_registry_is_rebuilt_from_conference_list_on_reconnect(two_nodes, tree, fake_fs):
    stays = fake_fs.join(C1_ROOM)
    goes = fake_fs.join(C1_ROOM)
    wait_for(lambda: len(members_of(tree.c1, "3000")) == 2)
    connection = two_nodes.connection("fs-a")
    # While the node is unreachable its events are lost: the snapshot must correct that.
    fake_fs.stop()
    wait_for(lambda: not connection.connected)
    with fake_fs._lock:
        del fake_fs.conferences[C1_ROOM].members[goes]
        fake_fs.conferences[C1_ROOM].locked = True
    fake_fs.start()
    wait_for(lambda: connection.connects == 2 and set(members_of(tree.c1, "3000")) == {stays},
             what="the snapshot")
    assert conferences.list_conferences(tree.c1)[0].locked


def test_a_conference_already_running_when_the_manager_starts_is_known(
        tree, make_node, fake_fs, start_manager):
    member = fake_fs.join(C1_ROOM, caller_id_number="1001")
    make_node(fake_fs)
    start_manager()
    wait_for(lambda: Conference.objects.exists())
    assert members_of(tree.c1, "3000")[member].caller_id_number == "1001"


def test_a_node_that_is_away_fails_fast(two_nodes, tree, fake_fs):
    member = fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=member).exists())
    fake_fs.stop()
    wait_for(lambda: not two_nodes.connection("fs-a").connected)
    with pytest.raises(NodeUnreachable, match="fs-a did not answer: node fs-a is not connected"):
        conferences.mute(tree.c1, "3000", member, timeout=30)
    fake_fs.start()


def test_freeswitch_refusals_become_clear_errors(two_nodes, tree, fake_fs):
    member = fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=member).exists())
    # The member left and the room ended between our registry and FreeSWITCH.
    fake_fs.api_replies[f"conference {C1_ROOM} kick {member}"] = f"-ERR Non-Existant ID {member}\n"
    with pytest.raises(MemberNotFound, match="no such member"):
        conferences.kick(tree.c1, "3000", member)
    fake_fs.api_replies[f"conference {C1_ROOM} lock"] = f"-ERR Conference {C1_ROOM} not found\n"
    with pytest.raises(ConferenceNotFound, match="not running"):
        conferences.lock(tree.c1, "3000")
    fake_fs.api_replies[f"conference {C1_ROOM} unlock"] = "-ERR something else\n"
    with pytest.raises(CommandFailed, match="unlock failed: something else"):
        conferences.unlock(tree.c1, "3000")


def test_api_timeout_is_node_unreachable(two_nodes, tree, fake_fs):
    member = fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=member).exists())
    fake_fs.slow_commands[f"conference {C1_ROOM} mute {member}"] = 0.5
    with pytest.raises(NodeUnreachable, match="did not answer"):
        conferences.mute(tree.c1, "3000", member, timeout=0.1)


# -- attacker side: tenant c2 goes after tenant c1's conference --------------------------------


def test_another_tenants_room_does_not_exist_for_me(two_nodes, tree, fake_fs):
    victim = fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=victim).exists())
    before = list(fake_fs.api_commands)
    assert conferences.list_conferences(tree.c2) == []
    with pytest.raises(ConferenceNotFound):
        conferences.list_members(tree.c2, "3000")
    member_actions = (conferences.mute, conferences.unmute, conferences.deaf, conferences.undeaf,
                      conferences.kick)
    for action in member_actions:
        with pytest.raises((ConferenceNotFound, MemberNotFound)):
            action(tree.c2, "3000", victim)
    room_actions = (conferences.lock, conferences.unlock, conferences.start_recording,
                    conferences.stop_recording)
    for action in room_actions:
        with pytest.raises(ConferenceNotFound):
            action(tree.c2, "3000")
    assert fake_fs.api_commands == before  # nothing was sent


def test_my_room_with_the_same_number_does_not_reach_their_members(two_nodes, tree, fake_fs):
    victim = fake_fs.join(C1_ROOM)
    mine = fake_fs.join("3000-c2.example.net")  # c2's own room 3000, same node: ids are per node
    wait_for(lambda: Conference.objects.filter(members__member_id__in=[victim, mine]).count() == 2)
    before = list(fake_fs.api_commands)
    with pytest.raises(MemberNotFound):
        conferences.kick(tree.c2, "3000", victim)
    assert fake_fs.api_commands == before
    assert set(members_of(tree.c2, "3000")) == {mine}
    conferences.kick(tree.c2, "3000", mine)
    assert fake_fs.api_commands[-1] == f"conference 3000-c2.example.net kick {mine}"
    assert set(members_of(tree.c1, "3000")) == {victim}


@pytest.mark.parametrize("room", [
    "3000-c1.example.net", "3000 kick all", "3000\nkick", "../3000", "", "3000@default", "all",
])
def test_crafted_room_names_reach_nothing(two_nodes, tree, fake_fs, room):
    victim = fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM, members__member_id=victim).exists())
    before = list(fake_fs.api_commands)
    with pytest.raises(ConferenceNotFound):
        conferences.lock(tree.c2, room)
    with pytest.raises(ConferenceNotFound):
        conferences.mute(tree.c2, room, victim)
    assert fake_fs.api_commands == before


@pytest.mark.parametrize("member", ["all", "1 all", -1, True, "1\n\napi shutdown", 1.0])
def test_crafted_member_ids_reach_nothing(two_nodes, tree, fake_fs, member):
    fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM).exists())
    before = list(fake_fs.api_commands)
    with pytest.raises(MemberNotFound):
        conferences.kick(tree.c1, "3000", member)
    assert fake_fs.api_commands == before


def test_conferences_of_no_tenant_are_invisible(two_nodes, tree, fake_fs):
    fake_fs.join("lobby")
    fake_fs.join("3000-unknown.example.org")
    wait_for(lambda: Conference.objects.count() == 2)
    assert Conference.objects.filter(account__isnull=True).count() == 2
    for account in (tree.master, tree.c1, tree.c2):
        assert conferences.list_conferences(account) == []


def test_the_owner_is_read_once_from_the_name(tree, make_node, fake_fs):
    node = make_node(fake_fs)
    event = {"Conference-Name": "3000-c1.localhost", "Action": "add-member", "Member-ID": "7",
             "Conference-Unique-ID": "u1", "Unique-ID": "call-1", "Hear": "true", "Speak": "false"}
    assert apply_event(node.pk, event) == "member added"  # through an alias of c1
    conference = Conference.objects.get()
    assert conference.account_id == tree.c1.pk and conference.room == "3000"
    assert members_of(tree.c1, "3000")[7].muted
    # Same name, new conference (new Conference-Unique-ID): the old members are forgotten.
    apply_event(node.pk, {**event, "Conference-Unique-ID": "u2", "Action": "conference-create"})
    assert Conference.objects.get().members.count() == 0


def test_a_disabled_nodes_conferences_are_forgotten(two_nodes, tree, fake_fs):
    from fsnodes.models import FreeswitchNode

    fake_fs.join(C1_ROOM)
    wait_for(lambda: Conference.objects.filter(name=C1_ROOM).exists())
    FreeswitchNode.objects.filter(name="fs-a").update(enabled=False)
    two_nodes.refresh_nodes()
    assert conferences.list_conferences(tree.c1) == []
