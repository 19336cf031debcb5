"""The tenant portal: each tenant's hostname, its own staff only."""

from __future__ import annotations

from tenants.actions import do_soft_delete_account, do_suspend_account
from tests.conftest import PASSWORD, Browser


def sign_in(host: str, username: str, password: str = PASSWORD):
    browser = Browser(host)
    response = browser.post("/login/", {"username": username, "password": password})
    return browser, response


def test_tenant_admin_signs_in_on_its_own_host(tree):
    browser, response = sign_in("c1.localhost", "c1_admin")
    assert response.status_code == 302
    page = browser.get("/").content.decode()
    assert "C1" in page and "c1.example.net" in page and "Provided by" in page


def test_primary_domain_serves_the_portal_too(tree):
    _, response = sign_in("c1.example.net", "c1_admin")
    assert response.status_code == 302


def test_other_tenants_user_is_refused_like_a_wrong_password(tree):
    _, wrong_tenant = sign_in("c1.localhost", "c2_admin")
    _, wrong_password = sign_in("c1.localhost", "c1_admin", "not-the-password")
    assert wrong_tenant.status_code == wrong_password.status_code == 200
    message = "Please enter a correct username and password"
    assert message in wrong_tenant.content.decode()
    assert message in wrong_password.content.decode()


def test_ancestor_staff_cannot_sign_in_directly(tree):
    _, response = sign_in("c1.localhost", "r1_admin")
    assert response.status_code == 200


def test_session_from_one_tenant_does_not_open_another(tree):
    browser, _ = sign_in("c1.localhost", "c1_admin")
    thief = Browser("c2.localhost")
    thief.cookies["sessionid"] = browser.cookies["sessionid"].value
    assert thief.get("/").status_code == 302


def test_suspended_account_cannot_sign_in(tree):
    do_suspend_account(tree.user("r1_admin"), tree.r1a)
    _, response = sign_in("c1a.localhost", "c1a_admin")
    assert "suspended" in response.content.decode()


def test_suspension_ends_open_sessions(tree):
    browser, _ = sign_in("c1.localhost", "c1_admin")
    do_suspend_account(tree.user("r1_admin"), tree.c1)
    assert browser.get("/").status_code == 302


def test_unknown_and_deleted_hosts_are_404(tree):
    assert Browser("nobody.localhost").get("/login/").status_code == 404
    do_soft_delete_account(tree.user("r1_admin"), tree.c1)
    assert Browser("c1.localhost").get("/login/").status_code == 404


def test_admin_is_not_served_on_tenant_hosts(tree):
    assert Browser("c1.localhost").get("/admin/").status_code == 404


def test_sign_in_without_next_lands_on_the_dashboard(tree):
    # The login form posts an empty ``next`` when the page was opened directly.
    browser = Browser("c1.localhost")
    response = browser.post("/login/", {"username": "c1_admin", "password": PASSWORD, "next": ""})
    assert response.status_code == 302
    dashboard = browser.get(response["Location"])
    assert dashboard.status_code == 200
    assert "c1.example.net" in dashboard.content.decode()


def test_admin_sign_in_without_next_lands_on_the_admin(tree, admin_host):
    browser = Browser(admin_host)
    response = browser.post("/admin/login/", {"username": "master_admin", "password": PASSWORD})
    assert response.status_code == 302
    landing = browser.get(response["Location"], follow=True)
    assert landing.status_code == 200
    assert landing.redirect_chain[-1][0] == "/admin/"
