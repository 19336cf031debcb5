"""A tenant admin in a real Chromium: signs in, creates extensions (a device, forwarding
chosen with the destination picker's htmx kind switch), builds a ring group and orders
its members, searches the list, and asks the route explainer where a call goes. The
pages it passes are saved to docs/screenshots/ for the README."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import schema_context

from common.secrets import decrypt_secret
from pbx.actions import do_create_extension
from pbx.models import Device, Extension, RingGroup
from tenants.actions import do_bootstrap_master, do_create_staff_user
from tenants.models import Account, Role, User
from tests.conftest import PASSWORD, make_account
from tests.pbx.portal.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@dataclass
class Site:
    base: str
    account: Account
    admin: User


@pytest.fixture
def site(committed_site, live_server) -> Site:
    master = do_bootstrap_master(name="Provider", domains=["localhost", "127.0.0.1"],
                                 admin_username="master_admin", admin_password=PASSWORD)
    master_admin = User.objects.get(username="master_admin")
    account = make_account(master_admin, master, "Acme")
    admin = do_create_staff_user(master_admin, account=account, username="acme_admin", password=PASSWORD,
                                 role=Role.ADMIN)
    port = urlsplit(live_server.url).port
    return Site(f"http://acme.localhost:{port}", account, admin)


def shot(page, name: str, *, hide: tuple[str, ...] = ()) -> None:
    """Save the page for docs/screenshots; ``hide`` masks what differs from run to run (a
    new secret), so an unchanged page leaves the committed picture unchanged."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled",
                    mask=[page.locator(selector) for selector in hide])


def create_extension(page, site: Site, number: str, name: str) -> None:
    page.goto(f"{site.base}/extensions/")
    page.get_by_role("link", name="Add extension").click()
    page.get_by_label("Number", exact=True).fill(number)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create extension").click()
    page.wait_for_selector(f"h1:has-text('Extension {number} {name}')")


def choose(page, field_id: str, kind: str, label: str) -> None:
    """The destination picker: the kind, then, once htmx has swapped in the select of that
    kind's objects only, one of them."""
    # htmx binds the kind's change handler when the page has loaded; a choice made while
    # the page is still loading sends no request (a CI run waited 30 s for one).
    page.wait_for_load_state("load")
    with page.expect_response(lambda response: "/destinations/options/" in response.url):
        page.select_option(f"#{field_id}_kind", kind)
    page.wait_for_function(f"document.querySelectorAll('#{field_id}_object optgroup').length === 1")
    page.select_option(f"#{field_id}_object", label=label)


def test_admin_builds_extensions_and_a_ring_group_and_explains_the_route(chromium, site: Site):
    page = chromium.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{site.base}/login/")
    page.get_by_label("Username").fill("acme_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/")

    create_extension(page, site, "1001", "Alice Archer")
    page.get_by_role("link", name="Add device").click()
    page.get_by_label("Label").fill("Desk phone")
    page.get_by_role("button", name="Add device").click()
    secret = page.inner_text("#secret").strip()
    shot(page, "device-secret", hide=("#secret",))
    with schema_context(site.account.schema_name):
        assert decrypt_secret(Device.objects.get(username="1001").secret_encrypted) == secret

    create_extension(page, site, "1002", "Bob Baker")
    page.get_by_label("Forward busy", exact=True).check()
    choose(page, "id_forward_busy_to", "extension", "Extension 1001 Alice Archer")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Extension 1002 Bob Baker saved.")
    shot(page, "extension-edit")
    with schema_context(site.account.schema_name):
        alice = Extension.objects.get(number="1001")
        bob = Extension.objects.get(number="1002")
    assert bob.forward_busy and bob.forward_busy_to == f"extension:{alice.pk}"

    page.get_by_role("link", name="Ring groups").click()
    page.get_by_role("link", name="Add ring group").click()
    page.get_by_label("Number", exact=True).fill("2000")
    page.get_by_label("Name", exact=True).fill("Sales")
    page.get_by_role("button", name="Create ring group").click()
    page.wait_for_selector("h1:has-text('Ring group 2000 Sales')")
    for label in ("Extension 1001 Alice Archer", "Extension 1002 Bob Baker"):
        choose(page, "id_destination", "extension", label)
        page.get_by_role("button", name="Add member").click()
        page.wait_for_selector(f"ol.members >> text={label}")
    with page.expect_navigation():
        page.get_by_role("button", name="Move Extension 1002 Bob Baker up").click()
    assert page.locator("ol.members li").first.inner_text().startswith("Extension 1002 Bob Baker")
    shot(page, "ring-group-edit")
    with schema_context(site.account.schema_name):
        order = list(RingGroup.objects.get(number="2000").members.values_list("destination", flat=True))
    assert order == [f"extension:{bob.pk}", f"extension:{alice.pk}"]

    # The list's search answers through htmx: the table changes, the page stays.
    page.get_by_role("link", name="Extensions").first.click()
    shot(page, "extensions")
    page.get_by_label("Search extensions").fill("ali")
    page.wait_for_function("!document.querySelector('#object-table').innerText.includes('Bob Baker')")
    assert "Alice Archer" in page.inner_text("#object-table")
    assert page.url.endswith("/extensions/?q=ali")

    page.get_by_role("link", name="Where does this call go?").click()
    page.get_by_label("From").fill("1002")
    page.get_by_label("To", exact=True).fill("2000")
    page.get_by_role("button", name="Explain").click()
    hop = page.get_by_role("link", name="Rings ring group 2000")
    hop.wait_for()
    shot(page, "explain")
    hop.click()
    page.wait_for_selector("h1:has-text('Ring group 2000 Sales')")

    page.goto(f"{site.base}/")
    shot(page, "dashboard")


def test_the_portal_fits_a_phone_screen(chromium, site: Site):
    page = chromium.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    do_create_extension(site.account, number="1001", name="Alice Archer")
    page.goto(f"{site.base}/login/")
    page.get_by_label("Username").fill("acme_admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/")
    page.goto(f"{site.base}/extensions/")
    # Nothing is wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "extensions-phone")
    page.get_by_role("link", name="1001").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The form is usable from the keyboard: labels lead to their fields.
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.press("End")
    page.keyboard.type(" Jr")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("text=Alice Archer Jr saved.")
    with schema_context(site.account.schema_name):
        assert Extension.objects.get(number="1001").name == "Alice Archer Jr"
