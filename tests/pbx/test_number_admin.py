"""The phone-number admin from the attacker's side and the writer's: a reseller sees and
moves only the numbers of its subtree (the master also the pool), out-of-scope numbers
are 404 like missing ones, read-only staff never write, and every change goes through
pbx.numbers."""

from __future__ import annotations

import re

import pytest

from pbx.actions import do_create_extension
from pbx.numbers import do_assign_number, do_import_numbers
from tenants.models import AuditEvent, PhoneNumber
from tests.conftest import PASSWORD, Browser, route_to

NUMBERS = "/admin/tenants/phonenumber/"
NUMBER_URLS = ["{pk}/change/", "{pk}/history/", "{pk}/route/", "{pk}/release/", "{pk}/delete/"]

C1_DID, R1_DID, C2_DID, POOL_DID, C0_DID, R1_SPARE = (
    "+14165550101", "+14165550102", "+14165550103", "+14165550104", "+14165550105", "+14165550106")


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def listed(response) -> set[str]:
    return set(re.findall(r'<a href="/admin/tenants/phonenumber/\d+/change/[^"]*">([^<]+)</a>',
                          response.content.decode()))


def shows(html: str, text: str) -> bool:
    return re.search(rf">\s*{re.escape(text)}\s*<", html) is not None


@pytest.fixture
def numbers(tree) -> dict[str, PhoneNumber]:
    """C1_DID: pool → R1 → C1.  R1_DID, R1_SPARE: held by R1.  C2_DID: → R2 → C2.
    POOL_DID: in the pool.  C0_DID: → C0."""
    m, r1, r2 = tree.user("master_admin"), tree.user("r1_admin"), tree.user("r2_admin")
    made = {n.e164: n for n in do_import_numbers(
        m, [C1_DID, R1_DID, C2_DID, POOL_DID, C0_DID, R1_SPARE])}

    def hand(actor, e164, account):
        do_assign_number(actor, PhoneNumber.objects.get(e164=e164), account)

    for e164 in (C1_DID, R1_DID, R1_SPARE):
        hand(m, e164, tree.r1)
    hand(r1, C1_DID, tree.c1)
    hand(m, C2_DID, tree.r2)
    hand(r2, C2_DID, tree.c2)
    hand(m, C0_DID, tree.c0)
    return {e164: PhoneNumber.objects.get(pk=n.pk) for e164, n in made.items()}


def holder(e164: str):
    return PhoneNumber.objects.select_related("account").get(e164=e164).account


class TestScope:
    def test_reseller_lists_only_its_subtree(self, tree, numbers):
        response = admin_as(tree, "r1_admin").get(NUMBERS)
        assert response.status_code == 200
        assert listed(response) == {C1_DID, R1_DID, R1_SPARE}
        html = response.content.decode()
        assert "3 phone numbers" in html and not shows(html, "pool")

    def test_master_sees_the_pool_too(self, tree, numbers):
        response = admin_as(tree, "master_admin").get(NUMBERS)
        assert listed(response) == set(numbers)
        html = response.content.decode()
        row = html.split(f">{POOL_DID}</a>")[1].split("</tr>")[0]
        assert '<td class="field-holder">pool</td>' in row
        row = html.split(f">{C1_DID}</a>")[1].split("</tr>")[0]
        assert '<td class="field-holder">C1</td>' in row

    @pytest.mark.parametrize("term", [C2_DID, "14165550103", "0103", POOL_DID, "+1 416 555 0105"])
    def test_search_never_finds_outside(self, tree, numbers, term):
        assert listed(admin_as(tree, "r1_admin").get(NUMBERS, {"q": term})) == set()

    def test_search_by_number(self, tree, numbers):
        browser = admin_as(tree, "r1_admin")
        assert listed(browser.get(NUMBERS, {"q": "416-555-0101"})) == {C1_DID}
        assert listed(admin_as(tree, "master_admin").get(NUMBERS, {"q": "0103"})) == {C2_DID}

    def test_filter_by_account(self, tree, numbers):
        browser = admin_as(tree, "r1_admin")
        assert listed(browser.get(NUMBERS, {"account": tree.c1.pk})) == {C1_DID}
        for outside in (tree.c2.pk, tree.r2.pk, tree.master.pk, "pool", "junk"):
            assert listed(browser.get(NUMBERS, {"account": outside})) == set()
        master = admin_as(tree, "master_admin")
        assert listed(master.get(NUMBERS, {"account": "pool"})) == {POOL_DID}

    def test_filter_sidebar_names_only_inside_accounts(self, tree, numbers):
        html = admin_as(tree, "r1_admin").get(NUMBERS).content.decode()
        assert shows(html, "C1") and shows(html, "R1")
        assert not shows(html, "C2") and not shows(html, "C0") and not shows(html, "Pool (not assigned)")

    @pytest.mark.parametrize("url", NUMBER_URLS)
    @pytest.mark.parametrize("target", [C2_DID, POOL_DID, C0_DID])
    def test_outside_is_404_like_missing(self, tree, numbers, url, target):
        browser = admin_as(tree, "r1_admin")
        pk = numbers[target].pk
        assert browser.get(NUMBERS + url.format(pk=pk)).status_code == 404
        assert browser.post(NUMBERS + url.format(pk=pk)).status_code == 404
        assert browser.get(NUMBERS + url.format(pk=999999)).status_code == 404
        assert holder(C2_DID) == tree.c2 and holder(POOL_DID) is None

    def test_no_add_and_no_edit_in_place(self, tree, numbers):
        browser = admin_as(tree, "master_admin")
        assert browser.get(f"{NUMBERS}add/").status_code == 403
        pk = numbers[C1_DID].pk
        assert browser.post(f"{NUMBERS}{pk}/change/", {"account": tree.c2.pk}).status_code == 403
        assert holder(C1_DID) == tree.c1

    @pytest.mark.parametrize("term", ["R2", "C2", "Provider", ""])
    def test_autocomplete_never_offers_outside_accounts(self, tree, numbers, term):
        response = admin_as(tree, "r1_admin").get("/admin/autocomplete/", {
            "app_label": "tenants", "model_name": "phonenumber", "field_name": "account", "term": term})
        found = {r["text"] for r in response.json()["results"]} if response.status_code == 200 else set()
        assert found <= {"R1", "C1", "R1A", "C1A"}


class TestAssign:
    def post_assign(self, browser, ids, account):
        return browser.post(NUMBERS, {"action": "assign_selected", "apply": "1",
                                      "_selected_action": ids, "account": account.pk})

    def test_reseller_hands_its_numbers_one_step_down(self, tree, numbers):
        response = self.post_assign(admin_as(tree, "r1_admin"), [numbers[R1_DID].pk], tree.r1a)
        assert response.status_code == 302
        assert holder(R1_DID) == tree.r1a
        event = AuditEvent.objects.filter(action="number.assign").latest("at")
        assert (event.actor, event.account) == (tree.user("r1_admin"), tree.r1a)

    def test_intermediate_page_offers_the_accounts_one_step_down(self, tree, numbers):
        response = admin_as(tree, "r1_admin").post(NUMBERS, {
            "action": "assign_selected", "_selected_action": [numbers[R1_DID].pk]})
        html = response.content.decode()
        assert response.status_code == 200 and R1_DID in html
        options = {int(o) for o in re.findall(r'<option value="(\d+)"', html.split('name="account"')[1])}
        assert options == {tree.c1.pk, tree.r1a.pk}

    def test_crafted_ids_outside_the_subtree_do_nothing(self, tree, numbers):
        ids = [numbers[e].pk for e in (R1_DID, C2_DID, POOL_DID, C0_DID)]
        self.post_assign(admin_as(tree, "r1_admin"), ids, tree.c1)
        assert holder(R1_DID) == tree.c1
        assert holder(C2_DID) == tree.c2 and holder(POOL_DID) is None and holder(C0_DID) == tree.c0

    @pytest.mark.parametrize("target", ["c2", "r2", "c1a", "r1", "master"])
    def test_target_must_be_one_step_below(self, tree, numbers, target):
        response = self.post_assign(admin_as(tree, "r1_admin"), [numbers[R1_DID].pk], getattr(tree, target))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert holder(R1_DID) == tree.r1

    def test_only_the_holder_hands_a_number_on(self, tree, numbers):
        """R1 sees C1's number but does not hold it: it cannot move it sideways."""
        browser = admin_as(tree, "r1_admin")
        response = self.post_assign(browser, [numbers[C1_DID].pk], tree.r1a)
        assert response.status_code == 302
        assert holder(C1_DID) == tree.c1
        page = browser.get(NUMBERS)  # the refusal is on the next page
        assert "Only the account holding a number can hand it on." in page.content.decode()

    def test_master_assigns_from_the_pool(self, tree, numbers):
        self.post_assign(admin_as(tree, "master_admin"), [numbers[POOL_DID].pk], tree.r2)
        assert holder(POOL_DID) == tree.r2


class TestRelease:
    def test_release_goes_one_step_up(self, tree, numbers):
        browser = admin_as(tree, "r1_admin")
        ids = [numbers[e].pk for e in (C1_DID, R1_SPARE)]
        response = browser.post(NUMBERS, {"action": "release_selected", "_selected_action": ids})
        assert response.status_code == 302
        assert holder(C1_DID) == tree.r1 and holder(R1_SPARE) is None

    def test_crafted_ids_outside_the_subtree_do_nothing(self, tree, numbers):
        ids = [numbers[e].pk for e in (C2_DID, C0_DID, POOL_DID)]
        admin_as(tree, "r1_admin").post(NUMBERS, {"action": "release_selected", "_selected_action": ids})
        assert holder(C2_DID) == tree.c2 and holder(C0_DID) == tree.c0 and holder(POOL_DID) is None
        assert not AuditEvent.objects.filter(action="number.release").exists()

    def test_release_from_the_number_page(self, tree, numbers):
        browser = admin_as(tree, "r1_admin")
        pk = numbers[C1_DID].pk
        assert browser.get(f"{NUMBERS}{pk}/release/").status_code == 405
        assert browser.post(f"{NUMBERS}{pk}/release/").status_code == 302
        assert holder(C1_DID) == tree.r1


class TestRoute:
    def test_route_to_an_extension_of_the_holder(self, tree, numbers):
        do_create_extension(tree.c1, number="1001", name="Alice")
        browser = admin_as(tree, "r1_admin")
        pk = numbers[C1_DID].pk
        page = browser.get(f"{NUMBERS}{pk}/route/").content.decode()
        assert "Extension 1001 Alice" in page
        route = route_to(tree.c1, "extension", "1001")
        response = browser.post(f"{NUMBERS}{pk}/route/", {"route": route})
        assert response.status_code == 302
        assert PhoneNumber.objects.get(pk=pk).route == route

    def test_target_must_be_an_extension_of_the_holder(self, tree, numbers):
        do_create_extension(tree.c2, number="1009", name="Mallory")
        pk = numbers[C1_DID].pk
        response = admin_as(tree, "r1_admin").post(
            f"{NUMBERS}{pk}/route/", {"route": route_to(tree.c2, "extension", "1009")})
        assert response.status_code == 200
        assert PhoneNumber.objects.get(pk=pk).route == ""

    def test_pool_numbers_are_not_routed(self, tree, numbers):
        response = admin_as(tree, "master_admin").get(f"{NUMBERS}{numbers[POOL_DID].pk}/route/")
        assert response.status_code == 302


class TestImport:
    URL = f"{NUMBERS}import/"

    def test_master_imports_into_the_pool(self, tree):
        response = admin_as(tree, "master_admin").post(
            self.URL, {"numbers": "+14165550150\n\n +1 416 555 0151 \n"})
        assert response.status_code == 302
        assert set(PhoneNumber.objects.filter(account__isnull=True).values_list("e164", flat=True)) == {
            "+14165550150", "+14165550151"}

    def test_errors_per_number_and_nothing_imported(self, tree, numbers):
        response = admin_as(tree, "master_admin").post(
            self.URL, {"numbers": "+14165550150\nnot-a-number\n+1555"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Line 2: “not-a-number” is not a phone number" in html
        assert "Line 3: “+1555” is not a valid phone number" in html
        response = admin_as(tree, "master_admin").post(
            self.URL, {"numbers": f"+14165550150\n+14165550150\n{C2_DID}"})
        html = response.content.decode()
        assert "+14165550150 is listed more than once." in html
        assert f"{C2_DID} is already on the platform." in html
        assert not PhoneNumber.objects.filter(e164="+14165550150").exists()

    @pytest.mark.parametrize("username", ["r1_admin", "r1_readonly"])
    def test_only_the_master_imports(self, tree, username):
        browser = admin_as(tree, username)
        assert browser.get(self.URL).status_code == 403
        assert browser.post(self.URL, {"numbers": "+14165550150"}).status_code == 403
        assert "Import numbers" not in browser.get(NUMBERS).content.decode()
        assert not PhoneNumber.objects.exists()


class TestRoles:
    def test_read_only_views_but_never_writes(self, tree, numbers):
        browser = admin_as(tree, "r1_readonly")
        assert listed(browser.get(NUMBERS)) == {C1_DID, R1_DID, R1_SPARE}
        pk = numbers[C1_DID].pk
        assert browser.get(f"{NUMBERS}{pk}/change/").status_code == 200
        assert browser.post(f"{NUMBERS}{pk}/release/").status_code == 403
        assert browser.get(f"{NUMBERS}{pk}/route/").status_code == 403
        browser.post(NUMBERS, {"action": "release_selected", "_selected_action": [pk]})
        browser.post(NUMBERS, {"action": "assign_selected", "apply": "1",
                               "_selected_action": [numbers[R1_DID].pk], "account": tree.c1.pk})
        assert holder(C1_DID) == tree.c1 and holder(R1_DID) == tree.r1
        assert not AuditEvent.objects.filter(action="number.release").exists()

    @pytest.mark.parametrize("username", ["c1_admin", "c2_admin"])
    def test_customer_staff_have_no_admin(self, tree, numbers, username):
        browser = Browser("localhost")
        response = browser.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
        assert response.status_code == 200
        assert browser.get(NUMBERS).status_code == 302
        forced = admin_as(tree, username)
        assert forced.get(NUMBERS).status_code == 302
        forced.post(NUMBERS, {"action": "release_selected", "_selected_action": [numbers[C1_DID].pk]})
        forced.post(f"{NUMBERS}{numbers[C1_DID].pk}/release/")
        assert holder(C1_DID) == tree.c1
