"""Issue 17: a call handed to a call-control app is not lost when the app cannot run it.
For follow-me the dialplan plans the extension's own ringing after ``socket``: FreeSWITCH
carries it out when call control cannot be reached, and call control hands the call back
to it (``resume``) when its database is away, because the answer sets
``switchboard_fallback`` first (callcontrol.server; tests/callcontrol/test_outage.py)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from callcontrol import conf
from pbx.actions import do_set_follow_me
from pbx.models import Extension
from pbx.routing import APP_FALLBACK_VARIABLE
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_wire_security import lookup


def _extension(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


def test_follow_me_rings_the_extensions_phones_after_socket(acme_beta, committed):
    ringing_alone = actions(lookup("1002"))
    with committed():
        do_set_follow_me(acme_beta.c1, _extension(acme_beta.c1, "1002"),
                         steps=[{"ring_seconds": 20, "targets": ["external:+12125550123"]}])

    found = actions(lookup("1002"))

    applications = [application for application, _ in found]
    socket_at = applications.index("socket")
    assert (("set", f"{APP_FALLBACK_VARIABLE}=true") in found[:socket_at])
    assert ("set", "switchboard_app=follow_me") in found[:socket_at]
    # After socket: exactly what the extension does without follow-me (its phones, then
    # the busy / no-answer handling), so a caller is never left with nothing.
    ringing = [action for action in ringing_alone if action[0] in ("bridge", "transfer")]
    after = [action for action in found[socket_at + 1:] if action[0] in ("bridge", "transfer")]
    assert ringing and after == ringing


def test_a_disabled_follow_me_plans_no_app_and_no_fallback(acme_beta, committed):
    with committed():
        do_set_follow_me(acme_beta.c1, _extension(acme_beta.c1, "1002"), enabled=False,
                         steps=[{"ring_seconds": 20, "targets": ["external:+12125550123"]}])
    found = actions(lookup("1002"))
    assert "socket" not in [application for application, _ in found]
    assert not any(value.startswith(APP_FALLBACK_VARIABLE) for _, value in found)


def test_call_control_reads_the_variable_the_dialplan_sets():
    assert conf.FALLBACK_VARIABLE == APP_FALLBACK_VARIABLE
