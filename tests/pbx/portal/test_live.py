"""The live pages with a (fake) FreeSWITCH node: the conference center shows the
tenant's running rooms, members and who is talking, an admin's buttons reach the node and
are audited, read-only people see no buttons and are refused, another tenant's member ids
are 404 with nothing sent, an unreachable node is said so; the dashboard's live tiles show
the tenant's registered phones and calls only, today's calls from the roll-up, its new
voicemail per box, and "nodes unreachable" when no node answers."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cdr.models import DailyUsage
from fsnodes import live
from fsnodes.conference_registry import apply_event
from fsnodes.manager import get_client
from fsnodes.models import Conference, ConferenceMember, FreeswitchNode
from fsnodes.receivers import flush_registrations_commands
from pbx.actions import do_create_voicemail_box
from pbx.actions.voicemail_messages import do_mark_message_read, record_left_message
from tenants.models import AuditEvent
from tests.fakes.freeswitch_esl import FakeFreeswitch
from tests.fsnodes.conftest import create_node, start_manager  # noqa: F401 (a fixture)
from tests.fsnodes.manager_helpers import wait_for
from tests.pbx.portal.conftest import OTHER_HOST, World

ROOM = "3000-c1.example.net"
CENTER = "/live/conferences/"


@pytest.fixture
def node(world: World, start_manager):  # noqa: F811 (the fixture imported above)
    live.clear_cache()
    with FakeFreeswitch() as fake:
        create_node(fake, name="fs-a")
        manager = start_manager()
        # The first snapshot (conference list) applied: one taken before a join but applied
        # after its events would drop the room again.
        wait_for(lambda: manager.connection("fs-a").connected and fake.subscribed and manager.drains >= 1,
                 what="the manager connected and its first snapshot applied")
        yield fake
    live.clear_cache()


def joined(fake: FakeFreeswitch, room: str = ROOM, **caller) -> int:
    member = fake.join(room, **caller)
    wait_for(lambda: ConferenceMember.objects.filter(conference__name=room, member_id=member).exists())
    return member


def member_url(member_id: int, operation: str, room: str = "3000") -> str:
    return f"{CENTER}{room}/members/{member_id}/{operation}/"


def test_the_center_shows_rooms_members_and_who_talks(world: World, node):
    alice = joined(node, caller_id_name="Alice", caller_id_number="1001")
    joined(node, caller_id_name="Bob", caller_id_number="1002", moderator=True)
    joined(node, "3000-c2.example.net", caller_id_name="Mallory")
    apply_event(Conference.objects.get(name=ROOM).node_id, {
        "Conference-Name": ROOM, "Action": "start-talking", "Member-ID": str(alice), "Talking": "true"})
    page = world.browser("admin").get(CENTER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Room 3000" in html and "Alice" in html and "Bob" in html and "Mallory" not in html
    assert '<span class="badge talking">Talking</span>' in html
    assert 'hx-trigger="every 2s"' in html
    for button in ("Lock room", "Record", 'aria-label="Mute Alice"', 'aria-label="Remove Bob"',
                   'aria-label="Deafen Alice"'):
        assert button in html, button
    for role in ("read_only", "user_activation", "supervisor"):
        seen = world.browser(role).get(CENTER).content.decode()
        assert "Alice" in seen and "Talking" in seen
        assert "Lock room" not in seen and "Mute Alice" not in seen and "<form" not in seen.split("<main")[1]
    # htmx polls for the panel only.
    panel = world.browser("admin").get(CENTER, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in panel and 'id="live-conferences"' in panel


def test_an_admins_buttons_reach_the_node_and_are_audited(world: World, node):
    alice = joined(node, caller_id_name="Alice", caller_id_number="1001")
    admin = world.browser("admin")
    done = admin.post(member_url(alice, "mute"), REMOTE_ADDR="198.51.100.7")
    assert done.status_code == 302 and done["Location"] == CENTER
    assert node.api_commands[-1] == f"conference {ROOM} mute {alice}"
    event = AuditEvent.objects.get(action="conference.mute")
    assert (event.actor, event.account, event.ip) == (world.people["admin"], world.account, "198.51.100.7")
    wait_for(lambda: not ConferenceMember.objects.get(member_id=alice).can_speak, what="mute-member")
    assert 'aria-label="Unmute Alice"' in admin.get(CENTER).content.decode()
    # Through htmx the answer is the refreshed panel.
    locked = admin.post(f"{CENTER}3000/lock/", HTTP_HX_REQUEST="true")
    assert locked.status_code == 200 and 'id="live-conferences"' in locked.content.decode()
    assert node.api_commands[-1] == f"conference {ROOM} lock"
    assert admin.get(f"{CENTER}3000/lock/").status_code == 302  # a GET only goes back
    assert admin.post(f"{CENTER}3000/shutdown/").status_code == 404
    assert admin.post(member_url(alice, "lock")).status_code == 404  # not a member operation
    admin.post(member_url(alice, "kick"))
    assert node.api_commands[-1] == f"conference {ROOM} kick {alice}"
    wait_for(lambda: not Conference.objects.filter(name=ROOM).exists(), what="the room ends")
    assert "No conference is running." in admin.get(CENTER).content.decode()


@pytest.mark.parametrize("role", ["read_only", "user_activation", "supervisor"])
def test_other_roles_are_refused_and_nothing_is_sent(world: World, node, role):
    alice = joined(node)
    before, events = list(node.api_commands), AuditEvent.objects.count()
    browser = world.browser(role)
    for url in (member_url(alice, "kick"), member_url(alice, "mute"), f"{CENTER}3000/record/"):
        refused = browser.post(url)
        assert refused.status_code == 403 and "Your role is read-only." in refused.content.decode()
    assert node.api_commands == before and AuditEvent.objects.count() == events


def test_another_tenants_admin_gets_404_and_nothing_is_sent(world: World, node):
    victim = joined(node)
    theirs = joined(node, "3000-c2.example.net")
    before, events = list(node.api_commands), AuditEvent.objects.count()
    attacker = world.browser("attacker", host=OTHER_HOST)
    for url in (member_url(victim, "kick"), member_url(victim, "mute", room="3000-c1.example.net"),
                f"{CENTER}3001/lock/", f"{CENTER}3000%20kick%20all/lock/"):
        assert attacker.post(url).status_code == 404, url
    assert "3000" in attacker.get(CENTER).content.decode()  # their own room, not C1's members
    assert node.api_commands == before and AuditEvent.objects.count() == events
    # On C1's host a C2 session is not signed in at all.
    assert world.browser("attacker").post(member_url(victim, "kick")).status_code == 302
    assert ConferenceMember.objects.filter(member_id=victim).exists()
    assert attacker.post(member_url(theirs, "mute")).status_code == 302


def test_an_unreachable_node_is_said_on_the_page(world: World, node):
    alice = joined(node)
    node.stop()
    wait_for(lambda: not node.subscribed)
    page = world.browser("admin").post(member_url(alice, "mute"))
    assert page.status_code == 503
    # "did not answer" or "cannot be reached", by whether the manager saw the drop yet.
    assert 'role="alert">conference server fs-a ' in page.content.decode()
    assert not AuditEvent.objects.filter(action="conference.mute").exists()
    node.start()


def registrations(node: FakeFreeswitch, *rows: tuple[str, str, str]) -> None:
    """The node's sofia lists these phones (user, host, address)."""
    node.registrations.clear()
    for user, host, ip in rows:
        node.register(user, host, network_ip=ip, agent="Yealink T54W")


def call(uuid: str, *, name: str, dest: str, accountcode: str = "", presence: str = "", b_presence: str = ""
         ) -> dict:
    return {"uuid": uuid, "direction": "inbound", "created_epoch": str(int(timezone.now().timestamp()) - 65),
            "name": name, "state": "CS_EXECUTE", "cid_name": "Caller", "cid_num": "1001", "dest": dest,
            "presence_id": presence, "accountcode": accountcode, "callstate": "ACTIVE",
            "callee_name": "", "callee_num": "", "b_presence_id": b_presence, "b_name": "",
            "b_accountcode": ""}


def voicemail(account, box_number: str, *, new: int = 0, heard: int = 0) -> None:
    """Messages left as the node manager records them; ``heard`` of them then listened to."""
    for index in range(new + heard):
        message = record_left_message(
            account, box_number, uuid=f"00000000-0000-4000-8000-{index:012d}", node="fs-a",
            file_path=f"/var/lib/freeswitch/storage/voicemail/{index}.wav", created_at=timezone.now(),
            duration=5, caller_id_number="+14165550100")
        if index >= new:
            do_mark_message_read(account, message, actor=None)


def test_the_dashboard_tiles_show_this_tenants_phones_and_calls_only(world: World, node):
    registrations(
        node, ("1001", "c1.example.net", "192.0.2.10"), ("1002", "C1.LOCALHOST", "192.0.2.11"),
        ("1001", "c2.example.net", "192.0.2.99"))
    node.api_replies["show calls as json"] = json.dumps({"row_count": 5, "rows": [
        call("a1", name="sofia/internal/1001@c1.example.net", dest="1002", accountcode="c1.example.net"),
        call("a2", name="sofia/external/+12125550100@203.0.113.5", dest="2000",
             b_presence="2000@c1.example.net"),
        call("a3", name="sofia/external/+12125550100@203.0.113.5", dest="14165550123"),  # C1's DID
        call("x1", name="sofia/internal/1001@c2.example.net", dest="1002", accountcode="c2.example.net"),
        call("x2", name="sofia/external/+12125550100@203.0.113.5", dest="14165550999"),
    ]})
    today = timezone.now().astimezone(ZoneInfo(world.account.timezone)).date()
    DailyUsage.objects.create(account=world.account, day=today, direction="inbound", calls=7, answered=5)
    DailyUsage.objects.create(account=world.tree.c2, day=today, direction="inbound", calls=40, answered=40)
    # Box 5000 holds the world's new message, one more and one already heard; C2's new
    # one is not C1's.
    voicemail(world.account, "5000", new=1, heard=1)
    do_create_voicemail_box(world.tree.c2, number="5000", name="Theirs")
    voicemail(world.tree.c2, "5000", new=1)
    dashboard = world.browser("admin").get("/").content.decode()
    assert 'hx-get="/live/dashboard/"' in dashboard
    tiles = world.browser("read_only").get("/live/dashboard/").content.decode()
    assert "1001@c1.example.net" in tiles and "1002@C1.LOCALHOST" in tiles and "192.0.2.99" not in tiles
    assert "Yealink T54W" in tiles
    figures = [chunk.split("<", 1)[0].strip() for chunk in tiles.split('<p class="figure">')[1:]]
    # Phones, calls in progress, today's calls, voicemail waiting.
    assert figures == ["2", "3", "7", "2"], figures
    box_link = f'href="/voicemail/{world.box.pk}/messages/">Box 5000 Reception</a>'
    assert f'{box_link} <span class="sub">2 new' in tiles
    assert "1:0" in tiles  # the calls' duration (about 65 s)
    assert "Nodes unreachable" not in tiles


def test_a_phone_sofia_flushed_is_no_longer_counted(world: World, node):
    """What the suspension of a domain sends (``flush_inbound_reg``) reaches sofia's own
    list, which the tile reads: the flushed phone is gone at the next question."""
    registrations(node, ("1001", "c1.example.net", "192.0.2.10"), ("1002", "c1.localhost", "192.0.2.11"))
    browser = world.browser("admin")
    tiles = browser.get("/live/dashboard/").content.decode()
    assert "1002@c1.localhost" in tiles and figures_of(tiles)[0] == "2"
    [flush] = flush_registrations_commands(["c1.localhost"])
    node_row = FreeswitchNode.objects.get(name="fs-a")
    assert get_client().api(node_row.pk, flush).startswith("+OK")
    live.clear_cache()
    tiles = browser.get("/live/dashboard/").content.decode()
    assert "1002@c1.localhost" not in tiles and "1001@c1.example.net" in tiles
    assert figures_of(tiles)[0] == "1"


def figures_of(tiles: str) -> list[str]:
    return [chunk.split("<", 1)[0].strip() for chunk in tiles.split('<p class="figure">')[1:]]


def test_the_tiles_say_nodes_unreachable_and_a_dead_node_is_asked_once_per_period(world: World, node,
                                                                                 start_manager):  # noqa: F811
    registrations(node, ("1001", "c1.example.net", "192.0.2.10"))
    node.stop()
    wait_for(lambda: not node.subscribed)
    browser = world.browser("admin")
    tiles = browser.get("/live/dashboard/")
    assert tiles.status_code == 200
    assert "Nodes unreachable" in tiles.content.decode() and "1001@" not in tiles.content.decode()
    node.start()
    wait_for(lambda: node.subscribed, what="the manager reconnects")
    # Remembered as unreachable for the period: pages polling meanwhile do not ask again.
    assert "Nodes unreachable" in browser.get("/live/dashboard/").content.decode()
    live.clear_cache()
    assert "1001@c1.example.net" in browser.get("/live/dashboard/").content.decode()
