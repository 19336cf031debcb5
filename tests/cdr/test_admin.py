"""Unreadable call-record posts in the admin: the master's staff inspect them; resellers
and tenants never see that they exist (404), and nobody edits or deletes them there."""

from __future__ import annotations

import pytest

from cdr.models import RejectedPost
from tests.cdr.test_endpoint import send
from tests.conftest import Browser

URL = "/admin/cdr/rejectedpost/"


@pytest.fixture
def rejected(db) -> RejectedPost:
    assert send("A-json_cdr-raw-b-leg", body=b'{"variables": {"uuid": "acme secret"}}').status_code == 422
    return RejectedPost.objects.get()


def test_master_staff_inspect_a_rejected_post(tree, rejected):
    master = Browser("localhost").login_as(tree.user("master_admin"))
    listing = master.get(URL)
    assert listing.status_code == 200 and "not a uuid" in listing.content.decode()
    page = master.get(f"{URL}{rejected.pk}/change/").content.decode()
    assert "acme secret" in page  # the body, as received
    assert master.get(f"{URL}add/").status_code == 403
    assert master.post(f"{URL}{rejected.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RejectedPost.objects.filter(pk=rejected.pk).exists()


@pytest.mark.parametrize("username", ["r1_admin", "r1_readonly"])
def test_resellers_do_not_see_them(tree, rejected, username):
    reseller = Browser("localhost").login_as(tree.user(username))
    assert reseller.get(URL).status_code == 404
    assert reseller.get(f"{URL}{rejected.pk}/change/").status_code == 404
    assert "rejectedpost" not in reseller.get("/admin/").content.decode()
