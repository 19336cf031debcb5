"""Live operations on the real switch: a phone's call joins a conference room; the API
lists the room with its member (the registry call control's node manager keeps from
mod_conference's events); muting through the API shows on the switch (``conference
<name> list`` drops the member's ``speak`` flag) and in the API; kicking ends the phone's
call. The portal dashboard's live tiles count the call in progress (``show calls as
json``) for its tenant only, and list the phones registered with the switch (``sofia
xmlstatus profile internal reg``) -- no longer one that sofia flushed."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fsnodes import live
from fsnodes.conference_registry import conference_name, parse_member_line
from fsnodes.receivers import flush_registrations_commands, unregister_commands
from pbx.actions.conferences import do_create_conference_room
from tenants.actions import do_create_staff_user
from tenants.models import AuditEvent, Role
from tests.conftest import PASSWORD, Browser
from tests.switchboard.api.client import Api, accounts_url, body, key_for

pytestmark = pytest.mark.freeswitch

ROOM = "3000"


def until(check, timeout: float = 10.0, what: str = ""):
    """Poll ``check`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}")


def figures(tiles: str) -> list[str]:
    """The big numbers of the dashboard's live tiles, in order."""
    return [chunk.split("<", 1)[0].split()[0] for chunk in tiles.split('<p class="figure">')[1:]]


def admin_of(fs, customer, username: str):
    return do_create_staff_user(fs.data.admin, account=customer.account, username=username, password=PASSWORD,
                                role=Role.ADMIN)


def test_a_member_is_listed_muted_and_kicked_through_the_api(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    do_create_conference_room(acme.account, number=ROOM, name="Standup")
    name = conference_name(ROOM, acme.domain)
    admin = admin_of(fs, acme, "acme-live")
    api = Api(token=key_for(admin))
    acme_browser = Browser("acme.localhost").login_as(admin)
    beta = fs.data.customer("beta")
    beta_browser = Browser("beta.localhost").login_as(admin_of(fs, beta, "beta-live"))
    listed_url = accounts_url(acme.account, "conferences")

    with ThreadPoolExecutor(1) as background:
        # hold_ms=0: the phone stays until FreeSWITCH hangs up on it.
        caller = background.submit(fs.sip.call, "1001", acme.domain, acme.secret("1001"), ROOM, hold_ms=0,
                                   timeout=40)
        try:
            rooms = until(lambda: [r for r in body(api.send("get", listed_url)) if r["members"]],
                          what="the room and its member in the API")
            [room] = rooms
            [member] = room["members"]
            assert (room["room"], room["name"], room["node"]) == (ROOM, name, "harness")
            assert not member["muted"] and not member["deaf"]
            member_id = member["member_id"]

            # Meanwhile the dashboard counts the call in progress (show calls as json), and
            # beta's admin sees none of it.
            live.clear_cache()
            tiles = acme_browser.get("/live/dashboard/").content.decode()
            assert figures(tiles)[:2] == ["0", "1"], tiles  # no phone registered, a call in progress
            assert f"→ {ROOM}" in tiles
            live.clear_cache()
            assert figures(beta_browser.get("/live/dashboard/").content.decode())[1] == "0"

            muted = api.send("post", accounts_url(acme.account, "conferences", ROOM, "members", member_id,
                                                  "mute"))
            assert muted.status_code == 200, body(muted)
            assert body(muted)["reply"].startswith("+OK mute"), body(muted)
            lines = [parse_member_line(line) for line in fs.api(f"conference {name} list").splitlines()]
            [on_switch] = [m for m in lines if m is not None and m.member_id == member_id]
            assert on_switch.can_hear and not on_switch.can_speak  # flags "hear" without "speak"
            until(lambda: body(api.send("get", listed_url))[0]["members"][0]["muted"],
                  what="mute-member back in the registry")

            kicked = api.send("post", accounts_url(acme.account, "conferences", ROOM, "members", member_id,
                                                   "kick"))
            assert kicked.status_code == 200, body(kicked)
            call = caller.result(timeout=15)
        finally:
            fs.switch.hangup_all()
    assert call.final_status("INVITE") == 200, call.describe()
    assert call.received("BYE"), call.describe()  # the switch ended the phone's call
    until(lambda: body(api.send("get", listed_url)) == [], what="the room gone from the registry")
    assert name not in fs.api("conference list")
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="conference.")
            .exclude(action="conference.create").order_by("pk")] == ["conference.mute", "conference.kick"]


def test_the_dashboard_tile_lists_registered_phones_and_not_flushed_ones(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    beta = fs.data.customer("beta")
    beta.extension("1002")
    fs.sip.phone("1001", acme.domain, acme.secret("1001"))
    fs.sip.phone("1002", "acme.localhost", acme.secret("1002"))  # the alias is acme's too
    fs.sip.phone("1002", beta.domain, beta.secret("1002"))
    browser = Browser("acme.localhost").login_as(admin_of(fs, acme, "acme-dash"))

    def tiles() -> str:
        live.clear_cache()
        return browser.get("/live/dashboard/").content.decode()

    def phones(html: str) -> list[str]:
        return re.findall(r"<li>([^<\s]+) <span", html.split('id="calls-heading"', 1)[0])

    listed = tiles()
    assert "Nodes unreachable" not in listed
    assert sorted(phones(listed)) == ["1001@acme.example.net", "1002@acme.localhost"], listed
    assert figures(listed)[0] == "2"  # registered phones
    assert "beta.example.net" not in listed  # another tenant's phone is not shown
    assert "sipp" in listed  # sofia knows each phone's User-Agent

    # What a suspension sends for each of the account's domains (fsnodes.receivers),
    # here for the alias only: sofia drops that phone at once; FreeSWITCH's core
    # registrations table (``show registrations``) keeps it until it would have expired.
    [flush] = flush_registrations_commands(["acme.localhost"])
    assert fs.api(flush).startswith("+OK")
    until(lambda: "1002@acme.localhost" not in fs.registrations(), what="sofia drops the flushed phone")
    assert '"realm":"acme.localhost"' in fs.api("show registrations as json")
    listed = tiles()
    assert phones(listed) == ["1001@acme.example.net"], listed
    assert figures(listed)[0] == "1"

    # A credential that ended (a device removed or turned off, a new secret) drops only
    # that user's registrations on each of its hosts (fsnodes.receivers): another
    # tenant's phone of the same number stays.
    for command in unregister_commands(["acme.example.net", "acme.localhost"], ["1001"]):
        assert fs.api(command).startswith("+OK")
    until(lambda: "1001@acme.example.net" not in fs.registrations(),
          what="sofia drops the ended credential's phone")
    assert "1002@beta.example.net" in fs.registrations()
    listed = tiles()
    assert phones(listed) == [], listed
