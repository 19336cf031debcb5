"""A person's live conference operations (fsnodes.conferences.do_control_member /
do_control_room): the command reaches the hosting node and is audited with the person
and their address; every role but admin is refused with nothing sent; another tenant's
member is not found. And the registry's talking state, from start-talking /
stop-talking, the events' Talking header and ``conference list``'s flags."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from fsnodes import conferences
from fsnodes.conference_registry import apply_event, parse_list
from fsnodes.conferences import ConferenceNotFound, MemberNotFound, do_control_member, do_control_room
from fsnodes.models import Conference, ConferenceMember, FreeswitchNode
from tenants.actions import do_create_staff_user
from tenants.models import AuditEvent, Role
from tenants.scoping import NotInSubtree
from tests.conftest import PASSWORD
from tests.fsnodes.manager_helpers import wait_for

C1_ROOM = "3000-c1.example.net"


@pytest.fixture
def live(tree, make_node, fake_fs, start_manager):
    make_node(fake_fs, name="fs-a")
    manager = start_manager()
    # The first snapshot (conference list) applied: one taken before a join but applied after
    # its events would drop the room again.
    wait_for(lambda: manager.connection("fs-a").connected and fake_fs.subscribed and manager.drains >= 1,
             what="the manager connected and its first snapshot applied")
    return manager


def joined(fake_fs, room: str = C1_ROOM, **caller) -> int:
    member = fake_fs.join(room, **caller)
    wait_for(lambda: ConferenceMember.objects.filter(conference__name=room, member_id=member).exists())
    return member


def test_an_admins_operations_reach_the_node_and_are_audited(live, tree, fake_fs):
    admin = tree.user("c1_admin")
    alice = joined(fake_fs, caller_id_name="Alice", caller_id_number="1001")
    for operation in ("mute", "unmute", "deaf", "undeaf"):
        result = do_control_member(tree.c1, "3000", alice, operation, actor=admin, ip="198.51.100.7")
        assert fake_fs.api_commands[-1] == f"conference {C1_ROOM} {operation} {alice}"
        assert result.reply == f"+OK {operation} {alice}"
        event = AuditEvent.objects.filter(action=f"conference.{operation}").get()
        assert (event.actor, event.account, event.ip) == (admin, tree.c1, "198.51.100.7")
        assert event.details == {"room": "3000", "member_id": alice, "caller_id_number": "1001",
                                 "caller_id_name": "Alice", "node": "fs-a"}
    for operation, sent in (("lock", "lock"), ("unlock", "unlock"), ("stop-recording", "norecord all")):
        do_control_room(tree.c1, "3000", operation, actor=admin, ip="198.51.100.7")
        assert fake_fs.api_commands[-1] == f"conference {C1_ROOM} {sent}"
    do_control_room(tree.c1, "3000", "record", actor=admin)
    path = fake_fs.api_commands[-1].split(" record ", 1)[1]
    assert AuditEvent.objects.get(action="conference.record").details == {
        "room": "3000", "node": "fs-a", "path": path}
    assert AuditEvent.objects.filter(action="conference.stop_recording").exists()
    do_control_member(tree.c1, "3000", alice, "kick", actor=admin)
    assert fake_fs.api_commands[-1] == f"conference {C1_ROOM} kick {alice}"
    wait_for(lambda: not Conference.objects.filter(name=C1_ROOM).exists(), what="the room ends")


@pytest.mark.parametrize("role", [Role.READ_ONLY, Role.USER_ACTIVATION, Role.SUPERVISOR])
def test_every_other_role_is_refused_and_nothing_is_sent(live, tree, fake_fs, role):
    person = do_create_staff_user(tree.user("r1_admin"), account=tree.c1, username=f"c1_{role}",
                                  password=PASSWORD, role=role)
    alice = joined(fake_fs)
    before, events = list(fake_fs.api_commands), AuditEvent.objects.count()
    for operation in conferences.MEMBER_OPERATIONS:
        with pytest.raises(PermissionDenied, match="read-only"):
            do_control_member(tree.c1, "3000", alice, operation, actor=person)
    for operation in conferences.ROOM_OPERATIONS:
        with pytest.raises(PermissionDenied, match="read-only"):
            do_control_room(tree.c1, "3000", operation, actor=person)
    assert fake_fs.api_commands == before
    assert AuditEvent.objects.count() == events


def test_another_tenants_admin_finds_nothing_and_sends_nothing(live, tree, fake_fs):
    victim = joined(fake_fs)
    mine = joined(fake_fs, "3000-c2.example.net")
    attacker = tree.user("c2_admin")
    before, events = list(fake_fs.api_commands), AuditEvent.objects.count()
    with pytest.raises(MemberNotFound):
        do_control_member(tree.c2, "3000", victim, "kick", actor=attacker)
    with pytest.raises(ConferenceNotFound):
        do_control_room(tree.c2, "3001", "lock", actor=attacker)
    # C1's own admin path with C2's admin as actor: C1 is outside C2's reach.
    with pytest.raises(NotInSubtree):
        do_control_member(tree.c1, "3000", victim, "kick", actor=attacker)
    assert fake_fs.api_commands == before and AuditEvent.objects.count() == events
    do_control_member(tree.c2, "3000", mine, "mute", actor=attacker)
    assert fake_fs.api_commands[-1] == f"conference 3000-c2.example.net mute {mine}"


def test_talking_follows_the_events_and_a_mute_silences(tree):
    node = FreeswitchNode.objects.create(name="fs-x", host="127.0.0.1", esl_password_encrypted="-")
    base = {"Conference-Name": C1_ROOM, "Conference-Unique-ID": "u1", "Member-ID": "4",
            "Unique-ID": "call-4", "Hear": "true", "Speak": "true", "Talking": "false"}
    apply_event(node.pk, {**base, "Action": "add-member"})

    def talking() -> bool:
        return conferences.list_members(tree.c1, "3000")[0].talking

    assert not talking()
    apply_event(node.pk, {**base, "Action": "start-talking", "Talking": "true"})
    assert talking()
    apply_event(node.pk, {**base, "Action": "stop-talking"})
    assert not talking()
    apply_event(node.pk, {**base, "Action": "start-talking", "Talking": "true"})
    apply_event(node.pk, {**base, "Action": "mute-member", "Speak": "false", "Talking": "true"})
    assert not talking() and conferences.list_members(tree.c1, "3000")[0].muted
    # An event without the header: the action says it.
    apply_event(node.pk, {k: v for k, v in base.items() if k != "Talking"} | {"Action": "start-talking"})
    assert talking()


def test_the_list_snapshot_reads_the_talking_flag():
    text = ("+OK Conference 3000-c1.example.net (2 members rate: 8000 flags: running)\n"
            "7;sofia/internal/1001@c1;u7;Alice;1001;hear|speak|talking|floor;0;0;100\n"
            "8;sofia/internal/1002@c1;u8;Bob;1002;hear;0;0;100\n")
    [listed] = parse_list(text)
    assert [(m.member_id, m.talking, m.can_speak) for m in listed.members] == [
        (7, True, True), (8, False, False)]


def test_a_room_is_named_by_its_number_or_its_conference_name(live, tree, fake_fs):
    alice = joined(fake_fs)
    joined(fake_fs, "3000-c2.example.net")
    do_control_member(tree.c1, "3000-C1.example.net", alice, "mute", actor=tree.user("c1_admin"))
    assert fake_fs.api_commands[-1] == f"conference {C1_ROOM} mute {alice}"
    assert conferences.get_conference(tree.c1, C1_ROOM).name == C1_ROOM
    # Another tenant's full name is not a way into that tenant's room.
    with pytest.raises(ConferenceNotFound):
        conferences.get_conference(tree.c2, C1_ROOM)
    assert conferences.get_conference(tree.c2, "3000-c2.example.net").room == "3000"


def test_a_call_joining_while_the_snapshot_is_taken_stays_in_the_registry(tree, make_node, fake_fs,
                                                                          start_manager):
    # The node lists its conferences as they were when asked (none), and slowly; a call
    # joins meanwhile: its events reach the manager around the answer. The older snapshot
    # must not undo them.
    fake_fs.api_replies["conference list"] = "+OK No active conferences.\n"
    fake_fs.slow_commands["conference list"] = 0.5
    make_node(fake_fs, name="fs-a")
    manager = start_manager()
    wait_for(lambda: "conference list" in fake_fs.api_commands, what="the snapshot asked")
    member = fake_fs.join(C1_ROOM, caller_id_number="1001")
    wait_for(lambda: manager.drains >= 1, what="the snapshot applied")
    assert [m.member_id for m in conferences.list_members(tree.c1, "3000")] == [member]
