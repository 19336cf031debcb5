"""The admin, the portal and the API while PostgreSQL is unreachable (switchboard.outage):
503 with a page and Retry-After instead of Django's bare 500, the outage logged once, and
back by themselves once the database answers. The test client's connection goes through
a proxy the test cuts (tests/dbproxy.py)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from common.dbhealth import breaker
from switchboard.outage import RETRY_AFTER_SECONDS
from tests.dbproxy import Mode, dbproxy, django_connection_through  # noqa: F401


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_503_page_while_the_database_is_away(tree, dbproxy, settings, caplog, debug):  # noqa: F811
    settings.DEBUG = debug
    admin = Client(HTTP_HOST="localhost", raise_request_exception=False)
    portal = Client(HTTP_HOST="c1.localhost", raise_request_exception=False)
    with django_connection_through(dbproxy):
        dbproxy.set_mode(Mode.REFUSE)
        with caplog.at_level(logging.INFO):
            # The first request fails in the tenant middleware's hostname lookup; the
            # later ones are answered without trying the database.
            pages = [admin.get("/admin/"), portal.get("/"), admin.get("/admin/login/"),
                     portal.get("/")]
            api = admin.get("/api/v1/accounts/")
        for page in pages:
            assert page.status_code == 503
            assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert b"Temporarily unavailable" in page.content
            assert b"database cannot be reached" in page.content
        assert api.status_code == 503 and "database cannot be reached" in api.json()["detail"]
        assert breaker.is_open
        # Logged once, by the breaker: no traceback per request.
        logged = [(record.name, record.levelname) for record in caplog.records
                  if record.levelno >= logging.WARNING]
        assert logged == [("switchboard.database", "ERROR")]
        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)
    # Back by itself (on the test's own connection, which holds the tree).
    assert Client(HTTP_HOST="localhost").get("/admin/login/").status_code == 200
    assert Client(HTTP_HOST="c1.localhost").get("/").status_code in (200, 302)


def test_a_connection_lost_mid_outage_is_logged_once_until_a_request_succeeds(db, dbproxy, caplog):  # noqa: F811
    """The server restarted under an open connection: the request on it fails (503), and
    so does the next, without the breaker opening -- the database is back, and the next
    recycling of connections (Django's before each request) replaces it."""
    from common.dbhealth import refresh_connections

    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    with django_connection_through(dbproxy) as through, caplog.at_level(logging.INFO):
        through.ensure_connection()
        dbproxy.set_mode(Mode.REFUSE)  # the server goes down, its connections with it
        dbproxy.set_mode(Mode.PASS)  # and is back
        assert [client.get("/admin/").status_code for _ in range(3)] == [503, 503, 503]
        assert not breaker.is_open
        refresh_connections()
        # Answered by the database again (404: the proxied connection does not see this
        # test's data, so "localhost" is nobody's domain).
        assert client.get("/admin/").status_code == 404
    logged = [record.getMessage() for record in caplog.records if record.name == "switchboard.outage"]
    assert len(logged) == 2
    assert logged[0].startswith("database error on GET /admin/") and "answer again" in logged[1]
