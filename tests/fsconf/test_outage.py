"""xml_curl through a database outage (issue 17), both ways PostgreSQL goes away, through
the production entry point (the WSGI fast path) with its connection through a proxy the
test cuts (tests/dbproxy.py): a request answered before is answered stale at once, one
never answered gets 503 at once, the breaker spares every later lookup the wait, and
fresh answers are back within a second of the database.

The bounds asserted are generous (the real figures, measured by bench/db_outage.py, are
in docs/benchmarks.md): what they rule out is the unbounded wait -- a query lost in a
partition waits until it heals, FreeSWITCH gives up after 3 s."""

from __future__ import annotations

import time
import uuid

import pytest

from common.dbhealth import breaker
from fsconf.endpoint import STALE_HEADER
from pbx.actions import do_update_extension
from tests.dbproxy import Mode, dbproxy, django_connection_through  # noqa: F401
from tests.fsconf.test_cache import REQUESTS, _extension, body_of, served
from tests.fsconf.test_wsgi import call_wsgi

FREESWITCH_TIMEOUT = 3.0


def fetch(captured) -> tuple[int, dict, bytes, float]:
    started = time.monotonic()
    status, headers, body = call_wsgi("/freeswitch/", captured.body,
                                      authorization=captured.headers["authorization"])
    return status, headers, body, time.monotonic() - started


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BLACKHOLE])
def test_xml_curl_through_an_outage(platform, committed, dbproxy, mode):  # noqa: F811
    seen = body_of(*REQUESTS["register acme 1001"])
    unseen = body_of("directory-sip_auth-register-acme-1001-a1hash-ok",
                     {"=1001": f"={uuid.uuid4().hex[:12]}"})
    known = served(seen)
    # The cached answer goes out of date, so the next fetch needs the database.
    with committed():
        do_update_extension(platform.c1, _extension(platform.c1, "1001"), name="Renamed")

    with django_connection_through(dbproxy) as through:
        through.ensure_connection()  # a connection open before the cut, as in production
        dbproxy.set_mode(mode)

        status, headers, body, seconds = fetch(seen)
        assert (status, body) == (200, known)
        assert "last known good" in headers[STALE_HEADER]
        assert seconds < FREESWITCH_TIMEOUT - 0.5

        status, _, _, seconds = fetch(unseen)
        assert status == 503  # FreeSWITCH tries its next binding
        assert seconds < FREESWITCH_TIMEOUT - 0.5
        assert breaker.is_open

        # The next lookups do not even try: no connect timeout, no wait limit.
        refused = breaker.refused
        for _ in range(5):
            status, headers, body, seconds = fetch(seen)
            assert (status, body) == (200, known) and STALE_HEADER in headers
            assert seconds < 0.5
        assert fetch(unseen)[0] == 503
        assert breaker.refused >= refused + 6

        dbproxy.set_mode(Mode.PASS)
        back = time.monotonic()
        while True:
            status, headers, body, _ = fetch(seen)
            if STALE_HEADER not in headers or time.monotonic() - back > 5:
                break
            time.sleep(0.02)
        recovered = time.monotonic() - back
    assert status == 200 and STALE_HEADER not in headers
    assert recovered < 2.0  # probes every 0.25 s
    # (Rendered on the proxied connection, which does not see this test's uncommitted
    # data: a fresh answer from the database, not the renamed extension.)
