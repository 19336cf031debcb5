""""Use account": an ancestor's admin opens a descendant's portal; every use is audited."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.core import signing

from tenants.actions import MASQUERADE_SALT, do_grant_masquerade
from tenants.models import AuditEvent, MasqueradeGrant
from tests.conftest import PASSWORD, Browser


def use_account(tree, username: str, target) -> str:
    """Click "Use account" in the admin; return the portal link it redirects to."""
    admin = Browser("localhost").login_as(tree.user(username))
    response = admin.post(f"/admin/tenants/account/{target.pk}/use/")
    assert response.status_code == 302, response
    return response["Location"]


def follow(link: str) -> tuple[Browser, object]:
    """Open the link (a confirmation page) and submit it, as the browser's script does."""
    url = urlparse(link)
    browser = Browser(url.hostname)
    page = browser.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and not browser.session.get("_auth_user_id")
    token = parse_qs(url.query)["token"][0]
    return browser, browser.post(url.path, {"token": token})


def test_reseller_enters_a_descendant_portal_with_banner_and_audit(tree):
    link = use_account(tree, "r1_admin", tree.c1a)
    assert urlparse(link).hostname == "c1a.localhost"
    browser, response = follow(link)
    assert response.status_code == 302 and response["Location"] == "/"
    page = browser.get("/").content.decode()
    assert "You are using C1A as its admin" in page
    assert "signed in as r1_admin of R1" in page
    start = AuditEvent.objects.get(action="masquerade.start")
    assert (start.actor, start.account, start.ip) == (tree.user("r1_admin"), tree.c1a, "127.0.0.1")
    assert start.at is not None


def test_way_back_ends_and_audits_it(tree):
    browser, _ = follow(use_account(tree, "r1_admin", tree.c1))
    response = browser.post("/masquerade/end/")
    assert response.status_code == 302
    assert response["Location"] == f"http://localhost:8000/admin/tenants/account/{tree.c1.pk}/change/"
    assert AuditEvent.objects.filter(action="masquerade.end", account=tree.c1,
                                     actor=tree.user("r1_admin")).exists()
    assert MasqueradeGrant.objects.get(account=tree.c1).ended_at is not None
    assert browser.get("/").status_code == 302  # signed out of the tenant portal


def test_link_works_once(tree):
    link = use_account(tree, "r1_admin", tree.c1)
    follow(link)
    _, again = follow(link)
    assert again.status_code == 403
    assert AuditEvent.objects.filter(action="masquerade.start").count() == 1


def test_link_expires(tree, settings):
    settings.MASQUERADE_GRANT_SECONDS = -1
    _, response = follow(use_account(tree, "r1_admin", tree.c1))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="masquerade.start").exists()


def test_link_for_one_tenant_does_not_open_another(tree):
    link = use_account(tree, "r1_admin", tree.c1)
    browser = Browser("c1a.localhost")
    token = parse_qs(urlparse(link).query)["token"][0]
    assert browser.post("/masquerade/", {"token": token}).status_code == 403
    assert browser.get("/").status_code == 302


def test_forged_token_is_refused(tree):
    grant = MasqueradeGrant.objects.create(user=tree.user("r1_admin"), account=tree.c1)
    forged = signing.dumps(str(grant.pk), salt=MASQUERADE_SALT, key="not-the-secret")
    assert Browser("c1.localhost").post("/masquerade/", {"token": forged}).status_code == 403


def test_cannot_use_an_account_outside_the_subtree(tree):
    admin = Browser("localhost").login_as(tree.user("r1_admin"))
    assert admin.post(f"/admin/tenants/account/{tree.c2.pk}/use/").status_code == 404
    assert not MasqueradeGrant.objects.exists()


def test_read_only_staff_cannot_use_accounts(tree):
    admin = Browser("localhost").login_as(tree.user("r1_readonly"))
    admin.post(f"/admin/tenants/account/{tree.c1.pk}/use/")
    assert not MasqueradeGrant.objects.exists()


def test_access_ends_when_the_admin_loses_the_subtree(tree):
    from tenants.actions import do_move_account

    browser, _ = follow(use_account(tree, "r1_admin", tree.c1a))
    assert browser.get("/").status_code == 200
    do_move_account(tree.user("master_admin"), tree.r1a, tree.r2)
    assert browser.get("/").status_code == 302


def test_masquerade_session_does_not_open_other_tenants(tree):
    browser, _ = follow(use_account(tree, "r1_admin", tree.c1))
    session_cookie = browser.cookies["sessionid"].value
    other = Browser("c2.localhost")
    other.cookies["sessionid"] = session_cookie
    assert other.get("/").status_code == 302


@pytest.mark.parametrize("own", [True, False])
def test_cannot_masquerade_into_own_or_master_account(tree, own):
    from django.core.exceptions import ValidationError

    target = tree.r1 if own else tree.master
    user = tree.user("r1_admin") if own else tree.user("master_admin")
    with pytest.raises(ValidationError):
        do_grant_masquerade(user, target)


def test_a_get_never_signs_in(tree):
    link = urlparse(use_account(tree, "r1_admin", tree.c1))
    browser = Browser("c1.localhost")
    browser.get(f"{link.path}?{link.query}")
    assert browser.get("/").status_code == 302
    assert not AuditEvent.objects.filter(action="masquerade.start").exists()


def test_masquerade_session_is_useless_on_the_admin_host(tree):
    """The attack: capture the session a grant opens (e.g. by pointing the tenant's own
    domain at your server) and replay it on the admin host."""
    browser, _ = follow(use_account(tree, "master_admin", tree.c1))
    stolen = browser.cookies["sessionid"].value
    admin = Browser("localhost")
    admin.cookies["sessionid"] = stolen
    assert admin.get("/admin/tenants/account/").status_code == 302
    assert admin.get("/admin/").status_code == 302


def test_portal_session_is_useless_on_the_admin_host(tree):
    portal = Browser("c1.localhost")
    portal.post("/login/", {"username": "c1_admin", "password": PASSWORD})
    admin = Browser("localhost")
    admin.cookies["sessionid"] = portal.cookies["sessionid"].value
    assert admin.get("/admin/").status_code == 302


def test_links_only_go_to_platform_portal_hostnames(tree):
    """A tenant's own domain may resolve to a server the tenant controls: never send it a
    bearer token."""
    from tenants.actions import do_set_domains

    do_set_domains(tree.user("r1_admin"), tree.c1, primary="c1.example.net",
                   aliases=["portal.c1-own-domain.com"])
    admin = Browser("localhost").login_as(tree.user("master_admin"))
    response = admin.post(f"/admin/tenants/account/{tree.c1.pk}/use/")
    assert response.status_code == 302 and "/use/" not in response["Location"]
    assert "c1-own-domain" not in response["Location"]
    assert not MasqueradeGrant.objects.exists()


def test_suspending_the_admins_own_account_ends_masquerade(tree):
    from tenants.actions import do_suspend_account

    browser, _ = follow(use_account(tree, "r1a_admin", tree.c1a))
    assert browser.get("/").status_code == 200
    do_suspend_account(tree.user("r1_admin"), tree.r1a)
    assert browser.get("/").status_code == 302


def test_ended_grant_cannot_be_resumed(tree):
    browser, _ = follow(use_account(tree, "r1_admin", tree.c1))
    MasqueradeGrant.objects.update(ended_at="2026-01-01T00:00:00Z")
    assert browser.get("/").status_code == 302


def test_masquerade_session_expires_within_the_hour(tree, settings):
    browser, _ = follow(use_account(tree, "r1_admin", tree.c1))
    assert browser.session.get_expiry_age() <= settings.MASQUERADE_SESSION_SECONDS
