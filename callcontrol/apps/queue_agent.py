"""The call-queue agent codes ("queue_agent" app; seed 001): *62 log in, *062 log out
(dynamic agents), *95 pause, *095 resume (every agent). ``switchboard_ref`` is
``<action>:<extension pk>``, the calling extension as the dialplan found it from the
authenticated device; the pk is looked up in the call's own tenant only.

The change is an action (pbx.actions.queues.do_set_agent_status): saved, audited, and
sent to mod_callcenter on every node through the command outbox, so the agent's status
is the same wherever the next queue call is handled and survives a reload.
"""

from __future__ import annotations

from callcontrol.apps import register
from callcontrol.apps.common import not_in_service, tenant_or_none
from callcontrol.session import CallSession

LOGGED_IN = "ivr/ivr-you_are_now_logged_in.wav"
LOGGED_OUT = "ivr/ivr-you_are_now_logged_out.wav"
# FreeSWITCH has no "on break" sound: a falling or rising tone, then "thank you".
PAUSED = "file_string://tone_stream://%(200,50,600)!tone_stream://%(200,0,400)!ivr/ivr-thank_you.wav"
RESUMED = "file_string://tone_stream://%(200,50,400)!tone_stream://%(200,0,600)!ivr/ivr-thank_you.wav"
CONFIRMATION = {"login": LOGGED_IN, "logout": LOGGED_OUT, "pause": PAUSED, "unpause": RESUMED}


@register("queue_agent")
def queue_agent(session: CallSession) -> None:
    from pbx.actions.queues import do_set_agent_status
    from pbx.models import Extension

    action, _, pk = session.variables.get("switchboard_ref", "").partition(":")
    tenant = tenant_or_none(session)
    if action not in CONFIRMATION or not pk.isdigit() or len(pk) > 12 or tenant is None:
        not_in_service(session, "not an agent code")
        return
    with session.tenant_schema():
        extension = Extension.objects.filter(pk=int(pk)).first()
    if extension is None:
        not_in_service(session, f"extension {pk} does not exist")
        return
    if not do_set_agent_status(tenant.account, extension, action):
        not_in_service(session, f"extension {extension.number} is no agent to {action}")
        return
    session.answer()
    session.play(CONFIRMATION[action])
    session.hangup()
