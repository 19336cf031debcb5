"""Browser tests of the portal (marker ``browser``): Playwright drives Debian's chromium
(Playwright's own browser download is not reachable here) against a live server.

The live server answers from another thread, which only sees committed rows, so these
tests run outside the usual rolled-back transaction: the data is written through the
actions in autocommit and removed afterwards (tenant schemas dropped, public tables
emptied, the spare pool refilled), as the real-FreeSWITCH tests do. Without chromium or
the playwright package every test here is skipped with the reason, which ``-ra`` (on in
pyproject) prints in the summary."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

DEBIAN_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


def find_chromium() -> tuple[str | None, str]:
    """The chromium executable, or None and why not."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, ("BROWSER TESTS SKIPPED: the playwright package is not installed "
                      "(pip install -e '.[dev]')")
    # By absolute path too: `bin/test --bare` leaves only the venv on PATH, and a browser
    # started by its path is not a tool the suite finds by accident.
    candidates = (os.environ.get("SWITCHBOARD_CHROMIUM"), shutil.which("chromium"),
                  shutil.which("chromium-browser"), *DEBIAN_CHROMIUM)
    path = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if path is None:
        return None, ("BROWSER TESTS SKIPPED: no chromium on PATH (Debian: apt-get install chromium; "
                      ".ci/run installs it) and SWITCHBOARD_CHROMIUM is not set")
    return path, ""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    chromium, reason = find_chromium()
    for item in items:
        if item.get_closest_marker("browser") is None:
            continue
        item.add_marker(pytest.mark.django_db(transaction=True))
        if chromium is None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _django_db_helper(request, django_db_setup):
    """pytest-django would flush every table after a transactional test; ``committed_site``
    removes what the test wrote instead (tenant schemas too, which a flush leaves)."""
    if request.node.get_closest_marker("browser") is None:
        raise RuntimeError("tests/pbx/portal/browser holds only tests marked 'browser'")
    yield


@pytest.fixture
def committed_site(django_db_blocker, monkeypatch) -> Iterator[None]:
    """Database access in autocommit for the test body; everything removed afterwards."""
    from tests.freeswitch.conftest import wipe_committed_data

    # Playwright's sync API keeps an event loop in this thread; the test's own queries
    # (setting up, checking what the pages wrote) are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server's request threads close their connections when a request ends:
    # kept ones would outlive the threads and hold the test database open at its teardown.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    with django_db_blocker.unblock():
        if connection.in_atomic_block:
            raise RuntimeError("a browser test runs inside a transaction: "
                               "the live server would not see its data")
        try:
            yield
        finally:
            wipe_committed_data()


@pytest.fixture
def chromium(committed_site) -> Iterator:
    from playwright.sync_api import sync_playwright

    path, reason = find_chromium()
    if path is None:
        pytest.skip(reason)
    with sync_playwright() as playwright:
        # Root in a container has no user namespaces for chromium's sandbox.
        browser = playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--host-resolver-rules=MAP *.localhost 127.0.0.1"])
        try:
            yield browser
        finally:
            browser.close()
