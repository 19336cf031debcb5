"""Call control through a database outage (issue 17): the real server, calls from the fake
FreeSWITCH, its database connection through a proxy the test cuts (tests/dbproxy.py).

The calls go to the IVR app of a domain no account has: with the database there, the
tenant lookup answers "nobody" and the caller hears "not in service" (UNALLOCATED_NUMBER);
without it the app cannot know, and the caller hears the special information tone before
a NORMAL_TEMPORARY_FAILURE hangup -- or, when the dialplan planned a fallback after
``socket``, the call goes back to it. The proxied connection is not the test's, so it
sees committed data only: the unknown domain makes the two outcomes tell apart whether
the database answered."""

from __future__ import annotations

import time

import pytest

from callcontrol import conf
from common.dbhealth import breaker
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import args_of, hangups, pbx  # noqa: F401
from tests.dbproxy import Mode, dbproxy, django_connection_through  # noqa: F401

pytestmark = pytest.mark.django_db
NOWHERE = "nowhere.example.net"


def ivr_call(harness, **variables):
    call = harness.call("ivr", domain=NOWHERE, variables={"switchboard_ref": "7", **variables})
    started = time.monotonic()
    finish(harness, call, timeout=10)
    return call, time.monotonic() - started


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BLACKHOLE])
def test_calls_work_again_once_the_database_is_back_without_a_restart(pbx, dbproxy, mode):  # noqa: F811
    with django_connection_through(dbproxy):
        call, _ = ivr_call(pbx)
        assert hangups(call) == ["UNALLOCATED_NUMBER"]  # the database answered: no such account

        dbproxy.set_mode(mode)
        call, seconds = ivr_call(pbx)
        # Not dead air: the tone, then a hangup the caller's phone shows as a temporary failure.
        assert args_of(call, "playback") == [conf.UNAVAILABLE_PROMPT]
        assert hangups(call) == [conf.UNAVAILABLE_CAUSE]
        assert seconds < 2.5  # the hub waited at most CALLCONTROL_DATABASE_WAIT (1 s)
        assert breaker.is_open

        # The dialplan planned what to do instead: the call goes back to it, at once.
        call, seconds = ivr_call(pbx, **{conf.FALLBACK_VARIABLE: "ring the extension"})
        assert any(command.line == "resume" for command in call.commands)
        assert hangups(call) == [] and args_of(call, "playback") == []
        assert seconds < 0.5

        dbproxy.set_mode(Mode.PASS)
        assert breaker.wait_closed(3.0)
        call, _ = ivr_call(pbx)
        assert hangups(call) == ["UNALLOCATED_NUMBER"]  # the same server reads the database again
        assert pbx.server.calls_handled == 4
