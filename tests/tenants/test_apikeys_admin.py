"""The API-key pages of the admin: the token shown once on the page that made it, keys
scoped to the viewer's subtree (404 outside), revoking through the action."""

from __future__ import annotations

import re

from tenants.actions import do_create_api_key
from tenants.models import ApiKey, AuditEvent
from tests.conftest import Browser


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def test_making_a_key_shows_its_token_once(tree):
    browser = admin_as(tree, "r1_admin")
    c1_admin = tree.user("c1_admin")
    page = browser.post("/admin/tenants/apikey/add/", {"name": "provisioning", "user": c1_admin.pk,
                                                       "read_only": "on"})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    token = re.search(r'id="api-key-token"[^>]*>(sb_[^<]+)<', page.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert (key.user, key.account, key.read_only, key.created_by) == (c1_admin, tree.c1, True,
                                                                     tree.user("r1_admin"))
    assert ApiKey.objects.matching(token) == key
    assert AuditEvent.objects.get(action="api_key.create").ip == "127.0.0.1"
    listing = browser.get("/admin/tenants/apikey/").content.decode()
    detail = browser.get(f"/admin/tenants/apikey/{key.pk}/change/").content.decode()
    assert key.prefix in listing and token not in listing and token not in detail


def test_the_form_offers_only_users_the_viewer_may_make_keys_for(tree):
    page = admin_as(tree, "r1_readonly").get("/admin/tenants/apikey/add/").content.decode()
    assert "r1_readonly" in page and "r1_admin" not in page and "c1_admin" not in page
    refused = admin_as(tree, "r1_readonly").post(
        "/admin/tenants/apikey/add/", {"name": "x", "user": tree.user("c1_admin").pk})
    assert refused.status_code == 200 and "api-key-token" not in refused.content.decode()
    assert not ApiKey.objects.exists()
    page = admin_as(tree, "r2_admin").get("/admin/tenants/apikey/add/").content.decode()
    assert "c1_admin" not in page and "c2_admin" in page


def test_keys_outside_the_subtree_are_404_and_absent_from_the_list(tree):
    c2_admin = tree.user("c2_admin")
    theirs, _token = do_create_api_key(tree.c2, actor=c2_admin, user=c2_admin, name="theirs")
    browser = admin_as(tree, "r1_admin")
    assert "theirs" not in browser.get("/admin/tenants/apikey/").content.decode()
    assert browser.get(f"/admin/tenants/apikey/{theirs.pk}/change/").status_code == 404
    assert admin_as(tree, "r2_admin").get(f"/admin/tenants/apikey/{theirs.pk}/change/").status_code == 200


def test_revoking_from_the_list(tree):
    c1_admin = tree.user("c1_admin")
    key, _token = do_create_api_key(tree.c1, actor=c1_admin, user=c1_admin, name="k")
    other = tree.user("r1_readonly")
    readonly_key, _token = do_create_api_key(tree.r1, actor=other, user=other, name="mine")
    # Read-only staff revoke their own keys, not other people's.
    admin_as(tree, "r1_readonly").post("/admin/tenants/apikey/", {
        "action": "revoke_selected", "_selected_action": [key.pk, readonly_key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert ApiKey.objects.get(pk=readonly_key.pk).revoked_at is not None
    admin_as(tree, "r1_admin").post("/admin/tenants/apikey/", {
        "action": "revoke_selected", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 2
