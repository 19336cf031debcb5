"""The API's two viewers in a real Chromium: Swagger UI and Redoc load from our own static
files and ask no other host for anything (issue 13: "served locally"). The HTML test in
tests/switchboard/api/test_openapi.py reads the pages; only a browser sees what the
viewers' scripts fetch once running (Redoc's bundle asks Redocly's CDN for a logo)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tenants.actions import do_bootstrap_master
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_swagger_ui_and_redoc_fetch_nothing_from_another_host(chromium, live_server):
    do_bootstrap_master(name="Provider", domains=["localhost", "127.0.0.1"],
                        admin_username="master_admin", admin_password=PASSWORD)
    page = chromium.new_page()
    asked: list[str] = []
    blocked: list[str] = []  # refused by the page's own policy: never sent
    page.on("request", lambda request: asked.append(request.url))
    page.on("requestfailed", lambda request: request.failure == "csp" and blocked.append(request.url))
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("master_admin")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector("text=/api/v1/accounts/")
    page.goto(f"{live_server.url}/api/v1/redoc/")
    # The sidebar (where the bundle puts Redocly's logo) is drawn once the document is read.
    page.wait_for_selector("[role=search], .menu-content")
    page.wait_for_load_state("networkidle")

    elsewhere = [url for url in asked if not url.startswith(("data:", "blob:")) and url not in blocked
                 and urlsplit(url).hostname not in ("localhost", "127.0.0.1")]
    assert elsewhere == []
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in asked)
