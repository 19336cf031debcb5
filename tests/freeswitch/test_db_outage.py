"""A database outage on the real switch (issue 17): the web server and the call-control
server reach PostgreSQL through the tests' proxy (tests/dbproxy.py), which refuses (the
server is down) and then black-holes (a network partition). A phone and a call seen
before the cut keep working from the last known good answers, each xml_curl request well
inside FreeSWITCH's 3 s timeout, and once the database is back an auto-attendant call
works again without restarting anything."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection

from fsconf.cache import reset_platform_generation
from pbx.actions.ivr import do_create_ivr, do_set_ivr_options
from tests.dbproxy import DatabaseProxy, Mode
from tests.freeswitch.harness import LOOPBACK, HarnessError, free_port
from tests.freeswitch.servers import READY_TIMEOUT, CallControlServer, WebServer
from tests.freeswitch.sip import SippResult

pytestmark = pytest.mark.freeswitch

# FreeSWITCH's xml_curl gives up after 3 s (deploy xml_curl.conf.xml): a phone seen before
# then gets 403. A guard well inside it; the measured figures are far below (issue 17).
REQUEST_BOUND = 2.5
HOLD_MS = 200
STALE_LINE = "serving the last known good answer"
# sipp's -trace_msg: a separator line with the time, then the message's first line.
_TRACED = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(?:UDP|TCP) message "
                     r"(sent|received) [^\n]*\n\n([^\r\n]*)", re.M)


@dataclass
class Proxied:
    """The web server at the first xml_curl binding and a call-control server, both with
    their database through ``proxy``."""

    proxy: DatabaseProxy
    web: WebServer
    callcontrol: CallControlServer


def _wait_listening(server: CallControlServer, timeout: float = READY_TIMEOUT) -> None:
    # From its log: a test connection to the port would be taken for a call.
    deadline = time.monotonic() + timeout
    while f"call control listening on {LOOPBACK}:{server.port}" not in server.log_since(0):
        server.check_alive()
        if time.monotonic() > deadline:
            raise HarnessError(f"the proxied call-control server did not listen:\n{server.log_tail()}")
        time.sleep(0.1)


@contextlib.contextmanager
def servers_through_proxy(fs) -> Iterator[Proxied]:
    """The harness's web server is replaced, on its port, by one whose database goes
    through a proxy; a second call-control server (without a node manager: the harness's
    stays connected to the node) gets the calls, its address in the proxied web server's
    dialplan. Afterwards the harness's web server runs again."""
    node = fs.node
    with DatabaseProxy.for_settings(connection.settings_dict) as proxy:
        callcontrol_port = free_port()
        address = f"{LOOPBACK}:{callcontrol_port}"
        env = {**node.web.env, "DATABASE_URL": proxy.database_url(os.environ["DATABASE_URL"]),
               "CALLCONTROL_LISTEN": address, "CALLCONTROL_SOCKET": address}
        web = WebServer(node.web.port, env, node.base / "web-proxied.log")
        callcontrol = CallControlServer(callcontrol_port, env, node.base / "callcontrol-proxied.log")
        callcontrol.command.append("--no-manager")
        node.web.stop()
        try:
            callcontrol.launch()
            web.launch()
            web.wait_ready()
            _wait_listening(callcontrol)
            yield Proxied(proxy, web, callcontrol)
        finally:
            web.stop()
            callcontrol.stop()
            node.web.launch()
            node.web.wait_ready()
            # Documents rendered meanwhile name the proxied call-control server.
            reset_platform_generation()


def answer_seconds(result: SippResult, method: str) -> float:
    """From the phone's authenticated ``method`` request (its last) to the 200 that answers
    it, from sipp's timestamps: every xml_curl lookup FreeSWITCH makes for it is inside."""
    traced = Path(result.command[result.command.index("-message_file") + 1]).read_text(errors="replace")
    messages = [(datetime.fromisoformat(stamp), direction, first_line)
                for stamp, direction, first_line in _TRACED.findall(traced)]
    sent = [index for index, (_, direction, line) in enumerate(messages)
            if direction == "sent" and line.startswith(f"{method} ")]
    if not sent:
        raise HarnessError(f"no {method} sent: {result.describe()}")
    request_time = messages[sent[-1]][0]
    for stamp, direction, line in messages[sent[-1] + 1:]:
        if direction == "received" and line.startswith("SIP/2.0 200"):
            return (stamp - request_time).total_seconds()
    raise HarnessError(f"no 200 to the {method}: {result.describe()}")


def test_seen_phone_and_call_survive_both_outages_and_call_control_recovers(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    reception = acme.extension("1002")
    menu = do_create_ivr(acme.account, name="Main menu", number="7000", dial_by_extension=False,
                         digit_timeout=1, attendant_timeout=5, max_attempts=1)
    do_set_ivr_options(acme.account, menu, {"1": f"extension:{reception.pk}"})
    password = acme.secret("1001")
    figures: dict[str, float] = {}

    def register(label: str) -> None:
        result = fs.sip.register("1001", "acme.example.net", password)
        assert result.final_status("REGISTER") == 200, f"{label}: {result.describe()}"
        figures[f"{label} REGISTER"] = answer_seconds(result, "REGISTER")

    def call(label: str, expected_invites: int) -> None:
        result = fs.sip.call("1001", "acme.example.net", password, "1002", hold_ms=HOLD_MS)
        assert result.final_status("INVITE") == 200, f"{label}: {result.describe()}"
        figures[f"{label} call set-up (INVITE -> 200)"] = answer_seconds(result, "INVITE")
        assert len(phone.wait_for_invites(expected_invites, timeout=1)) == expected_invites, label

    def attendant(label: str, expected_invites: int) -> None:
        result = fs.sip.call("1001", "acme.example.net", password, "7000", dtmf="1", dtmf_after_ms=500,
                             hold_ms=1500)
        assert result.final_status("INVITE") == 200, f"{label}: {result.describe()}"
        figures[f"{label} attendant INVITE -> 200"] = answer_seconds(result, "INVITE")
        # The key's destination rings: call control read the menu from the database.
        assert len(phone.wait_for_invites(expected_invites, timeout=2)) == expected_invites, label

    with servers_through_proxy(fs) as proxied:
        # Seen once with the database there: the REGISTERs, the call, and call control
        # (whose connection is open when the database goes).
        phone = fs.sip.phone("1002", "acme.example.net", acme.secret("1002"))
        register("seen")
        call("seen", 1)
        attendant("seen", 2)
        invites = 2
        for mode in (Mode.REFUSE, Mode.BLACKHOLE):
            # A write: every cached document is out of date, so each lookup needs the
            # database and can only be answered from the last known good.
            reset_platform_generation()
            web_mark = proxied.web.log_size()
            proxied.proxy.set_mode(mode)
            re_register = phone.register()
            assert re_register.final_status("REGISTER") == 200, f"{mode}: {re_register.describe()}"
            figures[f"{mode} phone re-REGISTER"] = answer_seconds(re_register, "REGISTER")
            register(str(mode))
            invites += 1
            call(str(mode), invites)
            stale = proxied.web.log_since(web_mark).count(STALE_LINE)
            assert stale >= 3, f"{mode}: answered from the database?\n{proxied.web.log_since(web_mark)}"
            for label in (f"{mode} phone re-REGISTER", f"{mode} REGISTER",
                          f"{mode} call set-up (INVITE -> 200)"):
                assert figures[label] < REQUEST_BOUND, (label, figures)

            proxied.proxy.set_mode(Mode.PASS)
            back = time.monotonic()
            # Fresh answers again (and, before the partition, connections open at the cut).
            while True:
                mark = proxied.web.log_size()
                register(f"{mode} back")
                if STALE_LINE not in proxied.web.log_since(mark):
                    break
                assert time.monotonic() - back < 5, f"{mode}: still stale 5 s after the database came back"
            figures[f"{mode} back -> fresh REGISTER"] = time.monotonic() - back

        # Call control, whose open connection the refused cut reset, reads its menu again
        # as soon as the database is back: no restart.
        invites += 1
        calls_before = proxied.callcontrol.log_since(0).count("app=ivr")
        attendant("after both cuts", invites)
        assert proxied.callcontrol.log_since(0).count("app=ivr") == calls_before + 1

    print("\n".join(f"{label}: {seconds * 1000:.0f} ms" for label, seconds in figures.items()))
