"""The admin's set-password page for staff users (tenants/admin/users.py): the password
is set by the API's own action, tenants.actions.do_set_staff_password (its validators,
its role check, its audit event), never by Django's form; a reseller's staff reach the
users of their subtree only."""

from __future__ import annotations

from tenants.models import AuditEvent, User
from tests.conftest import PASSWORD, Browser

NEW = "another-long-password"


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def url(user: User) -> str:
    return f"/admin/tenants/user/{user.pk}/password/"


def password_events() -> list[tuple[str, str, str | None]]:
    return [(e.actor_username, e.details["username"], e.ip)
            for e in AuditEvent.objects.filter(action="user.password").order_by("id")]


def test_a_reseller_admin_sets_a_password_inside_its_subtree_through_the_action_audited(tree):
    target = tree.user("c1a_admin")  # two levels down
    browser = admin_as(tree, "r1_admin")
    page = browser.get(url(target))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="password1"' in html and "unset-password" not in html and "usable_password" not in html
    done = browser.post(url(target), {"password1": NEW, "password2": NEW}, REMOTE_ADDR="192.0.2.44")
    assert done.status_code == 302 and done.url == f"/admin/tenants/user/{target.pk}/change/"
    target.refresh_from_db()
    assert target.check_password(NEW)
    assert password_events() == [("r1_admin", "c1a_admin", "192.0.2.44")]
    assert AuditEvent.objects.get(action="user.password").account_id == tree.c1a.pk


def test_a_user_outside_the_subtree_is_404_and_keeps_its_password(tree):
    browser = admin_as(tree, "r1_admin")
    for outside in ("c2_admin", "r2_admin", "master_admin", "c0_admin"):
        target = tree.user(outside)
        assert browser.get(url(target)).status_code == 404, outside
        assert browser.post(url(target), {"password1": NEW, "password2": NEW}).status_code == 404, outside
        target.refresh_from_db()
        assert target.check_password(PASSWORD), outside
    assert password_events() == []


def test_staff_who_may_not_set_passwords_get_403_on_a_post_too(tree):
    target = tree.user("c1_admin")
    for viewer in ("r1_readonly", "r1_activation"):
        refused = admin_as(tree, viewer).post(url(target), {"password1": NEW, "password2": NEW})
        assert refused.status_code == 403, viewer
    target.refresh_from_db()
    assert target.check_password(PASSWORD) and password_events() == []


def test_the_actions_password_rules_apply_and_nothing_is_set_or_audited(tree):
    target = tree.user("c1_admin")
    browser = admin_as(tree, "r1_admin")
    for data, says in [({"password1": "short", "password2": "short"}, "too short"),
                       ({"password1": "password123", "password2": "password123"}, "too common"),
                       ({"password1": NEW, "password2": NEW + "x"}, "differ"),
                       ({"password1": "", "password2": "", "unset-password": "1"}, "required")]:
        page = browser.post(url(target), data)
        assert page.status_code == 200 and says in page.content.decode(), says
    target.refresh_from_db()
    assert target.check_password(PASSWORD) and target.has_usable_password()
    assert password_events() == []


def test_setting_your_own_keeps_this_session_and_ends_the_others(tree):
    me = tree.user("r1_admin")
    browser, elsewhere = admin_as(tree, "r1_admin"), admin_as(tree, "r1_admin")
    assert elsewhere.get("/admin/tenants/user/").status_code == 200
    assert browser.post(url(me), {"password1": NEW, "password2": NEW}).status_code == 302
    assert browser.get("/admin/tenants/user/").status_code == 200
    assert elsewhere.get("/admin/tenants/user/").status_code == 302  # signed out: to the sign-in page
    assert password_events() == [("r1_admin", "r1_admin", "127.0.0.1")]
