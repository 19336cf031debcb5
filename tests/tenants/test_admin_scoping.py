"""The admin from the attacker's side: a reseller (or any staff user) must never see,
count or reach an account, user or audit event outside their subtree. Out-of-scope
objects answer 404 — exactly like ids that do not exist."""

from __future__ import annotations

import re

import pytest

from tenants.actions import do_create_staff_user
from tenants.models import Account, AuditEvent, Role, User
from tests.conftest import PASSWORD, Browser

ACCOUNT_URLS = [
    "/admin/tenants/account/{pk}/change/",
    "/admin/tenants/account/{pk}/delete/",
    "/admin/tenants/account/{pk}/history/",
    "/admin/tenants/account/{pk}/use/",
    "/admin/tenants/account/{pk}/move/",
    "/admin/tenants/account/{pk}/op/suspend/",
    "/admin/cdr/usagereport/{pk}/",  # cdr.admin: the account's usage per month
]
USER_URLS = [
    "/admin/tenants/user/{pk}/change/",
    "/admin/tenants/user/{pk}/password/",
    "/admin/tenants/user/{pk}/delete/",
    "/admin/tenants/user/{pk}/history/",
]
OUTSIDE_R1 = ["master", "r2", "c2", "c0"]


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def shows(html: str, text: str) -> bool:
    """``text`` as the whole text of an element (a bare substring could match inside the
    random CSRF token)."""
    return re.search(rf">\s*(?:└ )?{re.escape(text)}\s*<", html) is not None


def listed_accounts(response) -> set[str]:
    html = response.content.decode()
    link = r'<a href="/admin/tenants/account/\d+/change/[^"]*">\s*<span[^>]*>(?:└ )?([^<]+)</span>'
    return set(re.findall(link, html))


class TestChangelist:
    def test_reseller_lists_only_its_subtree(self, tree):
        response = admin_as(tree, "r1_admin").get("/admin/tenants/account/")
        assert response.status_code == 200
        assert listed_accounts(response) == {"R1", "C1", "R1A", "C1A"}
        assert "4 accounts" in response.content.decode()

    def test_master_lists_everything_as_an_indented_tree(self, tree):
        response = admin_as(tree, "master_admin").get("/admin/tenants/account/")
        html = response.content.decode()
        assert listed_accounts(response) == {"Provider", "R1", "C1", "R1A", "C1A", "R2", "C2", "C0"}
        # Tree order: every account follows its parent; C1A is indented three levels (1.5em each).
        order = [html.index(f">{prefix}{name}<") for prefix, name in
                 [("", "Provider"), ("└ ", "R1"), ("└ ", "C1"), ("└ ", "R1A"), ("└ ", "C1A"), ("└ ", "R2")]]
        assert order == sorted(order)
        assert 'padding-left:4.5em">└ C1A' in html

    @pytest.mark.parametrize("term", ["R2", "c2.example.net", "c0.localhost", "Provider"])
    def test_search_never_finds_outside(self, tree, term):
        response = admin_as(tree, "r1_admin").get("/admin/tenants/account/", {"q": term})
        assert listed_accounts(response) == set()

    def test_search_by_domain_inside(self, tree):
        response = admin_as(tree, "r1_admin").get("/admin/tenants/account/", {"q": "c1a.example"})
        assert listed_accounts(response) == {"C1A"}

    def test_step_into_a_sub_account(self, tree):
        response = admin_as(tree, "r1_admin").get("/admin/tenants/account/", {"within": tree.r1a.pk})
        assert listed_accounts(response) == {"R1A", "C1A"}

    def test_step_into_outside_shows_nothing(self, tree):
        browser = admin_as(tree, "r1_admin")
        for target in ("r2", "master"):
            response = browser.get("/admin/tenants/account/", {"within": getattr(tree, target).pk})
            assert listed_accounts(response) == set()

    def test_filter_sidebar_names_only_inside_accounts(self, tree):
        html = admin_as(tree, "r1_admin").get("/admin/tenants/account/").content.decode()
        assert shows(html, "R1A")
        assert not shows(html, "R2") and not shows(html, "Provider")


class TestDirectUrls:
    @pytest.mark.parametrize("url", ACCOUNT_URLS)
    @pytest.mark.parametrize("target", OUTSIDE_R1)
    def test_account_outside_is_404(self, tree, url, target):
        browser = admin_as(tree, "r1_admin")
        pk = getattr(tree, target).pk
        assert browser.get(url.format(pk=pk)).status_code == 404
        assert browser.post(url.format(pk=pk)).status_code == 404

    @pytest.mark.parametrize("url", ACCOUNT_URLS)
    def test_outside_looks_exactly_like_missing(self, tree, url):
        browser = admin_as(tree, "r1_admin")
        assert browser.get(url.format(pk=999999)).status_code == 404

    def test_sub_reseller_cannot_reach_its_parent(self, tree):
        browser = admin_as(tree, "r1a_admin")
        for url in ACCOUNT_URLS:
            assert browser.get(url.format(pk=tree.r1.pk)).status_code == 404
            assert browser.get(url.format(pk=tree.c1.pk)).status_code == 404

    def test_posts_to_outside_change_nothing(self, tree):
        browser = admin_as(tree, "r1_admin")
        browser.post(f"/admin/tenants/account/{tree.c2.pk}/op/suspend/")
        browser.post(f"/admin/tenants/account/{tree.c2.pk}/delete/")
        browser.post(f"/admin/tenants/account/{tree.c2.pk}/change/", {"name": "Pwned"})
        tree.c2.refresh_from_db()
        assert (tree.c2.name, tree.c2.status, tree.c2.deleted_at) == ("C2", "active", None)

    def test_bulk_action_with_outside_ids_touches_only_inside(self, tree):
        browser = admin_as(tree, "r1_admin")
        browser.post("/admin/tenants/account/", {
            "action": "suspend_selected",
            "_selected_action": [tree.c1.pk, tree.c2.pk, tree.c0.pk],
        })
        tree.refresh()
        assert tree.c1.status == Account.Status.SUSPENDED
        assert tree.c2.status == tree.c0.status == Account.Status.ACTIVE

    @pytest.mark.parametrize("url", USER_URLS)
    @pytest.mark.parametrize("target", ["master_admin", "r2_admin", "c2_admin", "c0_admin"])
    def test_user_outside_is_404(self, tree, url, target):
        browser = admin_as(tree, "r1_admin")
        assert browser.get(url.format(pk=tree.user(target).pk)).status_code == 404

    def test_users_list_only_inside(self, tree):
        html = admin_as(tree, "r1_admin").get("/admin/tenants/user/").content.decode()
        for inside in ("r1_admin", "r1_readonly", "c1_admin", "r1a_admin", "c1a_admin"):
            assert shows(html, inside)
        for outside in ("master_admin", "r2_admin", "c2_admin", "c0_admin"):
            assert not shows(html, outside)

    def test_password_reset_outside_is_404_and_inside_works(self, tree):
        browser = admin_as(tree, "r1_admin")
        new = {"password1": "another-long-password", "password2": "another-long-password"}
        outside = tree.user("c2_admin").pk
        assert browser.post(f"/admin/tenants/user/{outside}/password/", new).status_code == 404
        response = browser.post(f"/admin/tenants/user/{tree.user('c1_admin').pk}/password/", new)
        assert response.status_code == 302
        assert User.objects.get(username="c1_admin").check_password("another-long-password")
        assert User.objects.get(username="c2_admin").check_password(PASSWORD)

    def test_audit_log_scoped(self, tree):
        browser = admin_as(tree, "r1_admin")
        html = browser.get("/admin/tenants/auditevent/").content.decode()
        assert shows(html, "C1A") and not shows(html, "C2") and not shows(html, "R2")
        outside = AuditEvent.objects.filter(account=tree.c2).first()
        assert browser.get(f"/admin/tenants/auditevent/{outside.pk}/change/").status_code == 404


class TestAddForm:
    def form(self, tree, **overrides):
        data = {
            "name": "New Co", "kind": "customer", "parent": tree.r1.pk,
            "domain": "newco.example.net", "aliases": "newco.localhost",
            "timezone": "America/Toronto", "language": "en",
            "max_concurrent_calls": 5, "max_extensions": 20,
            "outbound_caller_id": "", "emergency_caller_id": "",
        }
        return {**data, **overrides}

    def test_create_sub_account_with_domain_and_admin_in_one_form(self, tree):
        browser = admin_as(tree, "r1_admin")
        response = browser.post("/admin/tenants/account/add/", self.form(
            tree, admin_username="newco-admin", admin_password="newco-long-password"))
        assert response.status_code == 302, response.content.decode()[:3000]
        account = Account.objects.get(name="New Co")
        assert account.primary_domain_name == "newco.example.net"
        assert Account.objects.get_parent(account) == tree.r1
        assert User.objects.get(username="newco-admin").account == account

    def test_parent_outside_is_refused(self, tree):
        browser = admin_as(tree, "r1_admin")
        response = browser.post("/admin/tenants/account/add/", self.form(tree, parent=tree.r2.pk))
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert not Account.objects.filter(name="New Co").exists()

    def test_parent_options_are_inside_only(self, tree):
        html = admin_as(tree, "r1_admin").get("/admin/tenants/account/add/").content.decode()
        options = re.findall(r'<option value="(\d+)"', html.split('name="parent"')[1].split("</select>")[0])
        assert sorted(int(o) for o in options) == sorted([tree.r1.pk, tree.r1a.pk])

    def test_reseller_sees_no_reseller_kind(self, tree):
        html = admin_as(tree, "r1_admin").get("/admin/tenants/account/add/").content.decode()
        assert 'value="reseller"' not in html
        response = admin_as(tree, "r1_admin").post(
            "/admin/tenants/account/add/", self.form(tree, kind="reseller"))
        assert response.status_code == 200 and not Account.objects.filter(name="New Co").exists()

    def test_duplicate_domain_is_a_field_error(self, tree):
        response = admin_as(tree, "r1_admin").post(
            "/admin/tenants/account/add/", self.form(tree, domain="C2.example.net"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "The domain c2.example.net is already in use" in html
        assert not shows(html, "C2")  # the owner is not named
        assert not Account.objects.filter(name="New Co").exists()


class TestRoles:
    def test_read_only_can_view_but_not_change(self, tree):
        browser = admin_as(tree, "r1_readonly")
        assert browser.get(f"/admin/tenants/account/{tree.c1.pk}/change/").status_code == 200
        assert browser.post(f"/admin/tenants/account/{tree.c1.pk}/change/", {"name": "X"}).status_code == 403
        assert browser.get("/admin/tenants/account/add/").status_code == 403
        browser.post("/admin/tenants/account/", {"action": "suspend_selected",
                                                 "_selected_action": [tree.c1.pk]})
        tree.c1.refresh_from_db()
        assert tree.c1.name == "C1" and tree.c1.status == "active"

    def test_user_activation_toggles_users_only(self, tree):
        """Employees' logins (seed 002: "enable or disable users only"), not staff."""
        browser = admin_as(tree, "r1_activation")
        c1_admin = tree.user("c1_admin")
        employee = do_create_staff_user(tree.user("c1_admin"), account=tree.c1, username="c1_employee",
                                        password=PASSWORD, role=Role.END_USER)
        browser.post("/admin/tenants/user/", {"action": "disable_selected", "_selected_action": [
            employee.pk, c1_admin.pk, tree.user("c2_admin").pk]})
        assert not User.objects.get(pk=employee.pk).is_active
        assert User.objects.get(pk=c1_admin.pk).is_active  # staff: refused by the action
        assert User.objects.get(username="c2_admin").is_active
        browser.post(f"/admin/tenants/user/{employee.pk}/change/",
                     {"is_active": "on", "email": "evil@example.net"})
        reloaded = User.objects.get(pk=employee.pk)
        assert reloaded.is_active and reloaded.email == ""
        # A staff login's page is not theirs to change.
        assert browser.post(f"/admin/tenants/user/{c1_admin.pk}/change/", {}).status_code == 403
        assert User.objects.get(pk=c1_admin.pk).is_active
        # Visible but not theirs to change: 403 (only out-of-scope objects are 404).
        assert browser.post(f"/admin/tenants/account/{tree.c1.pk}/op/suspend/").status_code == 403
        tree.c1.refresh_from_db()
        assert tree.c1.status == "active"

    @pytest.mark.parametrize("username", ["c1_admin", "c0_admin"])
    def test_customer_staff_cannot_sign_in_to_the_admin(self, tree, username):
        browser = Browser("localhost")
        response = browser.post("/admin/login/?next=/admin/",
                                {"username": username, "password": PASSWORD})
        assert response.status_code == 200
        assert browser.get("/admin/tenants/account/").status_code == 302

    def test_reseller_signs_in(self, tree):
        browser = Browser("localhost")
        response = browser.post("/admin/login/?next=/admin/",
                                {"username": "r1_admin", "password": PASSWORD})
        assert response.status_code == 302
        assert browser.get("/admin/tenants/account/").status_code == 200

    def test_suspended_reseller_is_locked_out(self, tree):
        browser = admin_as(tree, "r1a_admin")
        from tenants.actions import do_suspend_account
        do_suspend_account(tree.user("r1_admin"), tree.r1a)
        assert browser.get("/admin/tenants/account/").status_code == 302


class TestMasterOnlyTools:
    def test_reseller_cannot_move_inside_its_own_subtree(self, tree):
        browser = admin_as(tree, "r1_admin")
        assert browser.get(f"/admin/tenants/account/{tree.c1.pk}/move/").status_code == 403
        assert browser.post(f"/admin/tenants/account/{tree.c1.pk}/op/promote/").status_code == 403
        tree.c1.refresh_from_db()
        assert tree.c1.kind == "customer"

    def test_master_moves_through_the_admin(self, tree):
        browser = admin_as(tree, "master_admin")
        response = browser.post(f"/admin/tenants/account/{tree.c0.pk}/move/", {"new_parent": tree.r2.pk})
        assert response.status_code == 302
        assert Account.objects.get_parent(Account.objects.get(pk=tree.c0.pk)) == tree.r2

    def test_master_promotes_through_the_admin(self, tree):
        browser = admin_as(tree, "master_admin")
        browser.post(f"/admin/tenants/account/{tree.c0.pk}/op/promote/")
        tree.c0.refresh_from_db()
        assert tree.c0.kind == "reseller"


class TestAutocomplete:
    """Django's admin autocomplete endpoint reads the related admin's queryset."""

    @pytest.mark.parametrize("term", ["R2", "C2", "Provider", ""])
    def test_autocomplete_never_offers_outside_accounts(self, tree, term):
        response = admin_as(tree, "r1_admin").get("/admin/autocomplete/", {
            "app_label": "tenants", "model_name": "user", "field_name": "account", "term": term})
        found = {r["text"] for r in response.json()["results"]} if response.status_code == 200 else set()
        assert found <= {"R1", "C1", "R1A", "C1A"}
        assert not found & {"R2", "C2", "C0", "Provider"}


class TestPasswords:
    NEW = {"password1": "another-long-password", "password2": "another-long-password",
           "usable_password": "true"}

    def test_user_activation_cannot_reset_passwords(self, tree):
        browser = admin_as(tree, "r1_activation")
        target = tree.user("r1_admin")
        assert browser.get(f"/admin/tenants/user/{target.pk}/password/").status_code == 403
        assert browser.post(f"/admin/tenants/user/{target.pk}/password/", self.NEW).status_code == 403
        assert User.objects.get(pk=target.pk).check_password(PASSWORD)

    def test_outside_is_404_for_every_role(self, tree):
        for role_user in ("r1_activation", "r1_readonly", "r1_admin"):
            response = admin_as(tree, role_user).get(
                f"/admin/tenants/user/{tree.user('c2_admin').pk}/password/")
            assert response.status_code == 404

    def test_admin_reset_is_audited(self, tree):
        target = tree.user("c1_admin")
        admin_as(tree, "r1_admin").post(f"/admin/tenants/user/{target.pk}/password/", self.NEW)
        event = AuditEvent.objects.get(action="user.password")
        assert (event.actor, event.account, event.details["username"]) == (
            tree.user("r1_admin"), tree.c1, "c1_admin")


class TestAuditPrivacy:
    def test_new_owner_does_not_see_history_from_before_a_move(self, tree):
        from tenants.actions import do_move_account, do_update_account

        do_update_account(tree.user("r1_admin"), tree.c1, name="C1 renamed")
        do_move_account(tree.user("master_admin"), tree.c1, tree.r2)
        html = admin_as(tree, "r2_admin").get("/admin/tenants/auditevent/").content.decode()
        assert shows(html, "account.move")  # recorded after the move: R2's to see
        assert not shows(html, "account.update")
        assert not shows(html, "r1_admin")

    def test_old_owner_loses_the_moved_account(self, tree):
        from tenants.actions import do_move_account

        do_move_account(tree.user("master_admin"), tree.c1, tree.r2)
        html = admin_as(tree, "r1_admin").get("/admin/tenants/auditevent/").content.decode()
        assert not shows(html, "C1")

    def test_staff_above_the_viewer_are_not_named(self, tree):
        from tenants.actions import do_suspend_account

        do_suspend_account(tree.user("master_admin"), tree.c1, ip="203.0.113.9")
        html = admin_as(tree, "r1_admin").get("/admin/tenants/auditevent/").content.decode()
        assert shows(html, "account.suspend") and shows(html, "provider staff")
        assert not shows(html, "master_admin") and "203.0.113.9" not in html
        history = admin_as(tree, "r1_admin").get(f"/admin/tenants/account/{tree.c1.pk}/history/")
        assert "master_admin" not in history.content.decode()

    def test_master_sees_everything(self, tree):
        from tenants.actions import do_suspend_account

        do_suspend_account(tree.user("r1_admin"), tree.c1, ip="203.0.113.9")
        html = admin_as(tree, "master_admin").get("/admin/tenants/auditevent/").content.decode()
        assert shows(html, "r1_admin") and "203.0.113.9" in html
