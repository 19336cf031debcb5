"""FreeSWITCH's xml_curl with the deploy file's two bindings (two web servers): with the
first web server down it asks the second, so phones keep registering and calls keep
being routed (issue 12, also seen: with one binding a web tier outage refused them all)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.freeswitch


def test_with_the_first_web_server_down_freeswitch_asks_the_second(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    acme.extension("1002")
    node = fs.node
    node.second_web.launch()
    node.second_web.wait_ready()
    node.web.stop()
    try:
        # The REGISTER's directory lookup and the call's directory and dialplan lookups
        # each fail at the first binding (connection refused) and are answered by the
        # second: a lookup only the static files answered would be refused.
        callee = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
        call = fs.sip.call("1001", "acme.example.net", acme.secret("1001"), "1002", hold_ms=300)
        log = fs.log()
    finally:
        node.web.launch()
        node.web.wait_ready()
        node.second_web.stop()

    assert call.final_status("INVITE") == 200, call.describe()
    assert len(callee.invites()) == 1
    first = node.web.url
    assert f"trying to fetch {first}" in log, log[-3000:]  # the first binding was tried and failed
