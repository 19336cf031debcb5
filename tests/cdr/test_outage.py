"""A call-record post while PostgreSQL is black-holed (packets lost, no refusal): answered
503 inside mod_json_cdr's own timeout, so FreeSWITCH sees the refusal and retries it
instead of timing out, and the web thread is not held for the web's 30 s wait limit. The
connection goes through a proxy the test cuts (tests/dbproxy.py).

The bound asserted is mod_json_cdr's timeout from our deploy file, with a margin: what it
rules out is the unbounded (or 30 s) wait, not a speed figure."""

from __future__ import annotations

import re
import time
from pathlib import Path

from django.conf import settings

from cdr.models import CallRecord
from common.dbhealth import breaker
from tests.cdr.test_endpoint import CAPTURED, send_wsgi
from tests.dbproxy import Mode, dbproxy, django_connection_through  # noqa: F401

JSON_CDR_CONF = Path(settings.BASE_DIR) / "deploy/freeswitch/autoload_configs/json_cdr.conf.xml"


def json_cdr_timeout() -> float:
    return float(re.search(r'<param name="timeout" value="(\d+)"/>', JSON_CDR_CONF.read_text()).group(1))


def test_settings_answer_inside_mod_json_cdrs_timeout():
    assert json_cdr_timeout() - 1 > settings.CDR_DATABASE_WAIT


def test_a_post_while_postgresql_is_black_holed_is_refused_before_freeswitch_gives_up(acme, dbproxy):  # noqa: F811
    post = CAPTURED["B-json_cdr-raw-a-leg"]
    with django_connection_through(dbproxy) as through:
        through.ensure_connection()  # open before the cut, as a web thread's would be
        dbproxy.set_mode(Mode.BLACKHOLE)
        started = time.monotonic()
        status, body = send_wsgi("/freeswitch/cdr/json", post.body, "application/json")
        seconds = time.monotonic() - started
        assert (status, body) == (503, b"temporarily unable to store\n")
        assert seconds < json_cdr_timeout() - 0.5
        assert breaker.is_open
        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)
    assert CallRecord.objects.count() == 0
    # FreeSWITCH's retry, with PostgreSQL back, is stored.
    assert send_wsgi("/freeswitch/cdr/json", post.body, "application/json") == (200, b"OK\n")
    assert CallRecord.objects.count() == 1
