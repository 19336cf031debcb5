"""The live conference center in a real Chromium: a running room with its members and who
is talking; the admin mutes a member with a button (the command reaches the node, a fake
FreeSWITCH here, through a short event-socket session as the web server sends it), and
when the node's mute-member event is in the registry the page shows it by itself, with
no reload (htmx polls the panel every 2 s). The page is saved to docs/screenshots/."""

from __future__ import annotations

import pytest

from fsnodes.conference_registry import apply_event
from fsnodes.models import FreeswitchNode
from pbx.actions import do_create_conference_room
from tests.conftest import PASSWORD
from tests.fakes.freeswitch_esl import FakeFreeswitch
from tests.fsnodes.conftest import create_node
from tests.pbx.portal.browser.test_admin_journey import Site, shot, site  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

ROOM = "3000-acme.example.net"


def member_event(node: FreeswitchNode, action: str, member_id: int, name: str, number: str, **flags: str
                 ) -> None:
    """A conference::maintenance event as the node manager applies it (call control's
    process keeps the registry; none runs here)."""
    apply_event(node.pk, {"Conference-Name": ROOM, "Conference-Unique-ID": "c-1", "Action": action,
                          "Member-ID": str(member_id), "Unique-ID": f"call-{member_id}",
                          "Caller-Caller-ID-Name": name, "Caller-Caller-ID-Number": number,
                          "Hear": "true", "Speak": "true", "Talking": "false", **flags})


def test_admin_mutes_a_member_and_the_page_follows_the_node(chromium, site: Site):  # noqa: F811
    do_create_conference_room(site.account, number="3000", name="Board room")
    with FakeFreeswitch() as fake:
        node = create_node(fake, name="fs-a")
        try:
            alice = fake.join(ROOM, caller_id_name="Alice Archer", caller_id_number="1001")
            bob = fake.join(ROOM, caller_id_name="Bob Baker", caller_id_number="1002", moderator=True)
            member_event(node, "add-member", alice, "Alice Archer", "1001")
            member_event(node, "add-member", bob, "Bob Baker", "1002", **{"Member-Type": "moderator"})
            member_event(node, "start-talking", bob, "Bob Baker", "1002", Talking="true")

            page = chromium.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{site.base}/login/")
            page.get_by_label("Username").fill(site.admin.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{site.base}/")
            page.get_by_role("navigation", name="Portal").get_by_role("link", name="Live conferences").click()
            page.wait_for_selector("h2:has-text('Room 3000')")
            assert page.locator("tr.talking").inner_text().startswith("Bob Baker")
            shot(page, "live-conferences")

            with page.expect_response(lambda r: r.request.method == "POST" and "/mute/" in r.url) as answer:
                page.get_by_role("button", name="Mute Alice Archer").click()
            assert answer.value.status == 200  # htmx swapped the panel in place
            assert fake.api_commands[-1] == f"conference {ROOM} mute {alice}"
            # The node's event arrives; the next poll shows it without a reload.
            member_event(node, "mute-member", alice, "Alice Archer", "1001", Speak="false")
            page.get_by_role("button", name="Unmute Alice Archer").wait_for(timeout=5000)
            assert "Muted" in page.locator("tr", has_text="Alice Archer").inner_text()
        finally:
            FreeswitchNode.objects.filter(pk=node.pk).delete()  # the wipe keeps node rows
