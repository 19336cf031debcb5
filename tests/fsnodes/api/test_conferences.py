"""Live conferences through the API (fsnodes/api): the list with members, each member
and room operation reaching the hosting node and audited with the caller's address;
read-only keys and users, the supervisor, and other tenants refused with nothing sent;
an unreachable node is 503 and a refused command 409, never 500."""

from __future__ import annotations

import pytest

from fsnodes.conference_registry import apply_event
from fsnodes.models import Conference, ConferenceMember
from tenants.actions import do_create_staff_user
from tenants.models import AuditEvent, Role
from tests.conftest import PASSWORD, Tree
from tests.fsnodes.manager_helpers import wait_for
from tests.switchboard.api.client import Api, accounts_url, body, key_for

C1_ROOM = "3000-c1.example.net"
C2_ROOM = "3000-c2.example.net"
MEMBER_OPERATIONS = ("mute", "unmute", "deaf", "undeaf", "kick")
ROOM_OPERATIONS = {"lock": "lock", "unlock": "unlock", "record": "record", "stop-recording": "norecord all"}


@pytest.fixture
def node(tree, make_node, fake_fs, start_manager):
    make_node(fake_fs, name="fs-a")
    manager = start_manager()
    # The first snapshot (conference list) applied: one taken before a join but applied after
    # its events would drop the room again.
    wait_for(lambda: manager.connection("fs-a").connected and fake_fs.subscribed and manager.drains >= 1,
             what="the manager connected and its first snapshot applied")
    return fake_fs


def joined(fake_fs, room: str = C1_ROOM, **caller) -> int:
    member = fake_fs.join(room, **caller)
    wait_for(lambda: ConferenceMember.objects.filter(conference__name=room, member_id=member).exists())
    return member


def member_url(account, member_id, operation, room="3000") -> str:
    return accounts_url(account, "conferences", room, "members", member_id, operation)


def room_url(account, operation, room="3000") -> str:
    return accounts_url(account, "conferences", room, operation)


class TestLiveConferencesApi:
    covered_routes = ("conference-list", "conference-detail",
                      *(f"conference-{op}" for op in (*MEMBER_OPERATIONS, *ROOM_OPERATIONS)))

    def test_the_list_shows_the_accounts_rooms_with_their_members(self, tree: Tree, node):
        alice = joined(node, caller_id_name="Alice", caller_id_number="1001")
        bob = joined(node, caller_id_name="Bob", caller_id_number="1002", moderator=True)
        joined(node, C2_ROOM, caller_id_name="Carol")
        # Bob speaks: the registry keeps it from the event.
        member_event = {"Conference-Name": C1_ROOM, "Member-ID": str(bob), "Talking": "true"}
        apply_event(Conference.objects.get(name=C1_ROOM).node_id, {**member_event, "Action": "start-talking"})
        api = Api(token=key_for(tree.user("r1_admin")))
        listed = api.send("get", accounts_url(tree.c1, "conferences"))
        assert listed.status_code == 200, body(listed)
        [room] = body(listed)
        assert (room["room"], room["name"], room["node"], room["locked"], room["recording"]) == (
            "3000", C1_ROOM, "fs-a", False, False)
        people = {m["member_id"]: m for m in room["members"]}
        assert set(people) == {alice, bob}
        assert (people[alice]["caller_id_name"], people[alice]["muted"], people[alice]["talking"]) == (
            "Alice", False, False)
        assert people[bob]["moderator"] and people[bob]["talking"]
        one = api.send("get", accounts_url(tree.c1, "conferences", "3000"))
        assert one.status_code == 200 and body(one) == room
        assert api.send("get", accounts_url(tree.c1, "conferences", "3001")).status_code == 404
        # C2 sees its own room 3000 only; nothing of C1's.
        theirs = Api(token=key_for(tree.user("c2_admin"))).send("get", accounts_url(tree.c2, "conferences"))
        assert [[m["caller_id_name"] for m in c["members"]] for c in body(theirs)] == [["Carol"]]
        assert body(api.send("get", accounts_url(tree.c1a, "conferences"))) == []

    def test_every_operation_reaches_the_node_and_is_audited(self, tree: Tree, node):
        alice = joined(node, caller_id_number="1001")
        admin = tree.user("c1_admin")
        api = Api(token=key_for(admin))
        for operation in MEMBER_OPERATIONS[:-1]:
            done = api.send("post", member_url(tree.c1, alice, operation))
            assert done.status_code == 200, body(done)
            assert body(done) == {"room": "3000", "member_id": alice, "operation": operation, "node": "fs-a",
                                  "reply": f"+OK {operation} {alice}"}
            assert node.api_commands[-1] == f"conference {C1_ROOM} {operation} {alice}"
            event = AuditEvent.objects.get(action=f"conference.{operation}")
            assert (event.actor, event.account, event.ip) == (admin, tree.c1, "127.0.0.1")
        wait_for(lambda: ConferenceMember.objects.get(member_id=alice).can_hear, what="undeaf")
        for operation, sent in ROOM_OPERATIONS.items():
            done = api.send("post", room_url(tree.c1, operation))
            assert done.status_code == 200, (operation, body(done))
            assert node.api_commands[-1].startswith(f"conference {C1_ROOM} {sent}")
            assert AuditEvent.objects.filter(action=f"conference.{operation.replace('-', '_')}").count() == 1
        kicked = api.send("post", member_url(tree.c1, alice, "kick"))
        assert kicked.status_code == 200 and body(kicked)["reply"] == f"+OK kicked {alice}"
        wait_for(lambda: not Conference.objects.filter(name=C1_ROOM).exists(), what="the room ends")
        assert api.send("post", member_url(tree.c1, alice, "kick")).status_code == 404

    def test_muted_shows_in_the_list_once_the_node_says_so(self, tree: Tree, node):
        alice = joined(node)
        api = Api(token=key_for(tree.user("c1_admin")))
        assert api.send("post", member_url(tree.c1, alice, "mute")).status_code == 200
        listed = lambda: body(api.send("get", accounts_url(tree.c1, "conferences")))  # noqa: E731
        wait_for(lambda: listed()[0]["members"][0]["muted"], what="mute-member")

    def test_read_only_keys_users_and_the_supervisor_send_nothing(self, tree: Tree, node):
        alice = joined(node)
        supervisor = do_create_staff_user(tree.user("r1_admin"), account=tree.c1, username="c1_supervisor",
                                          password=PASSWORD, role=Role.SUPERVISOR)
        tokens = (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly")),
                  key_for(supervisor))
        before, events = list(node.api_commands), AuditEvent.objects.count()
        for token in tokens:
            api = Api(token=token)
            for operation in MEMBER_OPERATIONS:
                refused = api.send("post", member_url(tree.c1, alice, operation))
                assert refused.status_code == 403, (operation, body(refused))
                # A member that is not there is 404 for them too, like any missing id.
                assert api.send("post", member_url(tree.c1, alice + 100, operation)).status_code == 404
            for operation in ROOM_OPERATIONS:
                assert api.send("post", room_url(tree.c1, operation)).status_code == 403
            assert api.send("get", accounts_url(tree.c1, "conferences")).status_code == 200
        assert node.api_commands == before and AuditEvent.objects.count() == events

    def test_other_tenants_members_and_rooms_are_404_and_nothing_is_sent(self, tree: Tree, node):
        victim = joined(node)
        mine = joined(node, C2_ROOM)
        attacker = Api(token=key_for(tree.user("c2_admin")))
        before, events = list(node.api_commands), AuditEvent.objects.count()
        missing = attacker.send("post", member_url(tree.c2, 987654, "kick"))
        assert missing.status_code == 404
        for url in (member_url(tree.c1, victim, "kick"),  # C1's path: outside C2's reach
                    member_url(tree.c2, victim, "kick"),  # C2's own room 3000, C1's member id
                    member_url(tree.c2, victim, "mute", room="3000-c1.example.net"),
                    room_url(tree.c1, "lock"), room_url(tree.c2, "lock", room="3001"),
                    accounts_url(tree.c1, "conferences", "3000")):
            refused = attacker.send("post" if not url.endswith("3000/") else "get", url)
            assert (refused.status_code, body(refused)) == (404, body(missing)), url
        assert node.api_commands == before and AuditEvent.objects.count() == events
        assert ConferenceMember.objects.filter(member_id=victim).exists()
        assert attacker.send("post", member_url(tree.c2, mine, "kick")).status_code == 200

    def test_an_unreachable_node_is_503_and_a_refusal_409_never_500(self, tree: Tree, node, start_manager):
        alice = joined(node)
        api = Api(token=key_for(tree.user("c1_admin")))
        node.api_replies[f"conference {C1_ROOM} unlock"] = "-ERR something else\n"
        refused = api.send("post", room_url(tree.c1, "unlock"))
        assert refused.status_code == 409 and body(refused) == {
            "detail": "unlock failed: something else", "code": "refused"}
        node.stop()
        wait_for(lambda: not node.subscribed)
        away = api.send("post", member_url(tree.c1, alice, "mute"))
        assert away.status_code == 503, body(away)
        assert body(away)["code"] == "node_unreachable" and "fs-a" in body(away)["detail"]
        assert away.headers["Retry-After"] == "5"
        assert not AuditEvent.objects.filter(action__in=["conference.mute", "conference.unlock"]).exists()
        node.start()

    def test_without_a_manager_the_web_process_sends_through_a_short_session(self, tree: Tree, make_node,
                                                                             fake_fs):
        # The web server has no manager: fsnodes.manager.get_client() opens one session per
        # command. The registry row stands for what call control's manager recorded.
        node_row = make_node(fake_fs, name="fs-a")
        alice = fake_fs.join(C1_ROOM)
        apply_event(node_row.pk, {"Conference-Name": C1_ROOM, "Action": "add-member",
                                  "Member-ID": str(alice)})
        done = Api(token=key_for(tree.user("c1_admin"))).send("post", member_url(tree.c1, alice, "deaf"))
        assert done.status_code == 200 and body(done)["reply"] == f"+OK deaf {alice}"
        assert fake_fs.api_commands[-1] == f"conference {C1_ROOM} deaf {alice}"
        fake_fs.stop()
        away = Api(token=key_for(tree.user("c1_admin"))).send("post", member_url(tree.c1, alice, "undeaf"))
        assert away.status_code == 503 and "cannot be reached" in body(away)["detail"]
