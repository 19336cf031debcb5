"""A tenant admin in a real Chromium builds the main number's route from nothing: two
extensions, a ring group (members dragged into order), an auto attendant whose key 1
rings the group, office hours (open → the attendant, closed → an extension) seen in the
week view, then the main number routed to the schedule; the route explainer shows the
hops for a call to the main number inside and outside the hours. Then the other new
pages (queues, prompts, hold music, follow-me, feature codes, password reset) are shown
with data, and saved to docs/screenshots/; hold-music tracks are dragged into order, and
a refused drag says why in the page."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import schema_context

from pbx.actions import do_create_extension
from pbx.actions.followme import do_set_follow_me
from pbx.actions.media import do_add_moh_track, do_create_moh_group, do_upload_prompt
from pbx.actions.queues import Agent, do_create_queue, do_set_queue_agents
from pbx.media import convert_and_record
from pbx.models import Extension, Ivr, MohTrack, Prompt, RingGroup, Schedule
from pbx.numbers import do_assign_number, do_import_numbers
from tenants.actions import do_bootstrap_master, do_create_staff_user
from tenants.models import PhoneNumber, Role, User
from tests.conftest import PASSWORD, make_account
from tests.pbx.portal.browser.test_admin_journey import Site, choose, create_extension, shot
from tests.pbx.portal.conftest import wav

pytestmark = pytest.mark.browser

MAIN = "+12125550100"


@pytest.fixture
def site(committed_site, live_server) -> Site:
    """As the admin journey's: the account "Acme" at acme.localhost and its admin."""
    master = do_bootstrap_master(name="Provider", domains=["localhost", "127.0.0.1"],
                                 admin_username="master_admin", admin_password=PASSWORD)
    master_admin = User.objects.get(username="master_admin")
    account = make_account(master_admin, master, "Acme")
    admin = do_create_staff_user(master_admin, account=account, username="acme_admin", password=PASSWORD,
                                 role=Role.ADMIN)
    return Site(f"http://acme.localhost:{urlsplit(live_server.url).port}", account, admin)


def sign_in(page, site: Site) -> None:
    page.goto(f"{site.base}/login/")
    page.get_by_label("Username").fill("acme_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/")


def explain(page, site: Site, when: str) -> list[tuple[str, str | None]]:
    page.goto(f"{site.base}/explain/")
    page.get_by_label("From").fill("+12125559999")
    page.get_by_label("To", exact=True).fill(MAIN)
    page.get_by_label("When").fill(when)
    page.get_by_role("button", name="Explain").click()
    page.wait_for_selector("ol.hops li")
    return [(li.inner_text(), li.locator("a").get_attribute("href") if li.locator("a").count() else None)
            for li in page.locator("ol.hops li").all()]


def test_admin_routes_the_main_number_through_hours_an_attendant_and_a_ring_group(chromium, site: Site):
    master = User.objects.get(username="master_admin")
    [number] = do_import_numbers(master, [MAIN])
    do_assign_number(master, number, site.account)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site)
    create_extension(page, site, "1001", "Alice Archer")
    create_extension(page, site, "1002", "Bob Baker")

    # Ring group 2000, its members dragged into order (Bob first).
    page.goto(f"{site.base}/ring-groups/add/")
    page.get_by_label("Number", exact=True).fill("2000")
    page.get_by_label("Name", exact=True).fill("Sales")
    page.get_by_role("button", name="Create ring group").click()
    page.wait_for_selector("h1:has-text('Ring group 2000 Sales')")
    for label in ("Extension 1001 Alice Archer", "Extension 1002 Bob Baker"):
        choose(page, "id_destination", "extension", label)
        page.get_by_role("button", name="Add member").click()
        page.wait_for_selector(f"ol.members >> text={label}")
    posted = lambda response: "/members/" in response.url and response.request.method == "POST"  # noqa: E731
    with page.expect_response(posted):
        page.locator("ol.members li", has_text="Bob Baker").drag_to(page.locator("ol.members li").first)
    page.wait_for_function("document.querySelector('ol.members li').innerText.startsWith('Extension 1002')")
    with schema_context(site.account.schema_name):
        order = [m.destination for m in RingGroup.objects.get(number="2000").members.all()]
    assert order == [f"extension:{_pk(site, '1002')}", f"extension:{_pk(site, '1001')}"]

    # The auto attendant: key 1 rings the group.
    page.goto(f"{site.base}/auto-attendants/add/")
    page.get_by_label("Name", exact=True).fill("Main menu")
    page.get_by_role("button", name="Create auto attendant").click()
    page.wait_for_selector("h1:has-text('Auto attendant Main menu')")
    choose(page, "id_key_1", "ring_group", "Ring group 2000 Sales")
    with page.expect_navigation():
        page.get_by_role("button", name="Save keys").click()
    page.wait_for_selector("text=Keys of Main menu saved.")

    # Office hours: open → the attendant, closed → Bob; Mon-Fri 09:00-17:00.
    page.goto(f"{site.base}/schedules/add/")
    page.get_by_label("Name", exact=True).fill("Office hours")
    choose(page, "id_open_destination", "ivr", "Auto attendant (IVR) Main menu")
    choose(page, "id_closed_destination", "extension", "Extension 1002 Bob Baker")
    page.get_by_role("button", name="Create schedule").click()
    page.wait_for_selector("h1:has-text('Schedule Office hours')")
    page.get_by_role("link", name="Add event").click()
    page.get_by_label("Name", exact=True).fill("Weekdays")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("17:00")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_selector("ol.members >> text=every week Mon-Fri 09:00-17:00")
    shot(page, "schedule-edit")
    page.get_by_role("link", name="See the week view").click()
    page.wait_for_selector(".week-span.span-open")
    shot(page, "schedule-week")

    # The main number → the schedule.
    page.goto(f"{site.base}/numbers/")
    page.get_by_role("link", name=MAIN).click()
    choose(page, "id_route", "schedule", "Schedule Office hours")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    with schema_context(site.account.schema_name):
        schedule = Schedule.objects.get(name="Office hours")
        ivr = Ivr.objects.get(name="Main menu")
    assert PhoneNumber.objects.get(e164=MAIN).route == f"schedule:{schedule.pk}"

    monday = date(2026, 12, 7) - timedelta(days=date(2026, 12, 7).weekday())
    inside = explain(page, site, f"{monday.isoformat()}T10:30")
    shot(page, "explain-schedule")
    links = [href for _, href in inside]
    assert f"/schedules/{schedule.pk}/" in links and f"/auto-attendants/{ivr.pk}/" in links, inside
    assert any(text.startswith("Key 1: Ring group 2000 Sales") for text, _ in inside), inside
    outside = explain(page, site, f"{monday.isoformat()}T20:00")
    links = [href for _, href in outside]
    assert f"/schedules/{schedule.pk}/" in links and f"/auto-attendants/{ivr.pk}/" not in links, outside
    assert any("Bob Baker" in text or "1002" in text for text, _ in outside), outside


def _pk(site: Site, number: str) -> int:
    with schema_context(site.account.schema_name):
        return Extension.objects.get(number=number).pk


def track_names(account, moh) -> list[str]:
    with schema_context(account.schema_name):
        return list(MohTrack.objects.filter(group=moh).values_list("name", flat=True))


def test_the_other_new_pages_with_data(chromium, site: Site):
    account = site.account
    alice = do_create_extension(account, number="1001", name="Alice Archer")
    bob = do_create_extension(account, number="1002", name="Bob Baker")
    queue = do_create_queue(account, number="6000", name="Help desk")
    do_set_queue_agents(account, queue, [Agent(alice.pk), Agent(bob.pk, level=2, login_required=True)])
    with schema_context(account.schema_name):
        prompt = do_upload_prompt(account, name="Welcome", upload=wav("welcome.wav", 2.0))
        convert_and_record("pbx.Prompt", prompt.pk)
        do_upload_prompt(account, name="After hours", upload=wav("after.wav"))  # left converting
        moh = do_create_moh_group(account, name="Jazz")
        for name in ("take five", "so what"):
            track = do_add_moh_track(account, moh, upload=wav(f"{name}.wav", 2.0))
            convert_and_record("pbx.MohTrack", track.pk)
    do_set_follow_me(account, bob, steps=[{"targets": [f"extension:{bob.pk}"], "ring_seconds": 15},
                                          {"targets": ["external:+12125550123"], "ring_seconds": 25}])
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site)
    pages = ((f"/call-queues/{queue.pk}/", "queue-edit"), ("/prompts/", "prompts"),
             (f"/hold-music/{moh.pk}/", "hold-music"), (f"/extensions/{bob.pk}/follow-me/", "follow-me"),
             ("/feature-codes/", "feature-codes"))
    for path, name in pages:
        page.goto(f"{site.base}{path}")
        shot(page, name)
    # The converting prompt's state is polled until it settles: here it is converted
    # meanwhile (as the Celery worker would), and the page shows the player without a reload.
    page.goto(f"{site.base}/prompts/")
    page.wait_for_selector("text=Converting…")
    with schema_context(account.schema_name):
        convert_and_record("pbx.Prompt", Prompt.objects.get(name="After hours").pk)
    page.wait_for_function("document.querySelectorAll('audio').length === 2", timeout=10000)
    assert "Converting" not in page.inner_text("#object-table")
    # Hold music: a track dragged first (the ring groups' script, the reorder action);
    # then a drag on a list another admin changed meanwhile is refused, and the page says
    # why, with the saved order, without a reload.
    page.goto(f"{site.base}/hold-music/{moh.pk}/")
    posted = lambda response: "/tracks/" in response.url and response.request.method == "POST"  # noqa: E731
    tracks = page.locator("#tracks-section ol.members li")
    with page.expect_response(posted):
        tracks.filter(has_text="so what").drag_to(tracks.first)
    page.wait_for_function("document.querySelector('#tracks-section li').innerText.startsWith('so what')")
    assert track_names(account, moh) == ["so what", "take five"]
    page.evaluate("window.notReloaded = true")
    do_add_moh_track(account, moh, upload=wav("blue in green.wav"))
    with page.expect_response(posted) as refused:
        tracks.filter(has_text="take five").drag_to(tracks.first)
    assert refused.value.status == 400
    page.wait_for_selector("#tracks-section [role=alert] >> text=List every track of this group exactly once")
    assert page.evaluate("window.notReloaded") is True
    assert [li.split(" (")[0] for li in tracks.all_inner_texts()] == ["so what", "take five", "blue in green"]
    assert track_names(account, moh) == ["so what", "take five", "blue in green"]
    page.context.clear_cookies()
    page.goto(f"{site.base}/password-reset/")
    shot(page, "password-reset")
