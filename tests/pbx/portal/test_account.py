"""The dashboard's counts and signing out of the portal."""

from __future__ import annotations

from tests.pbx.portal.conftest import World


def test_sign_out_is_a_post_and_ends_the_session(world: World):
    browser = world.browser("admin")
    assert browser.get("/logout/").status_code == 405
    assert browser.get("/").status_code == 200
    response = browser.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert browser.get("/").status_code == 302


def test_dashboard_counts_the_pbx(world: World):
    body = world.browser("read_only").get("/").content.decode()
    assert "2 of " in body  # two extensions, of the account's limit
    assert 'href="/extensions/"' in body and 'href="/ring-groups/"' in body
