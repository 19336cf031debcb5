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
from callcontrol.apps.common import calling_extension, not_in_service
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

    found = calling_extension(session, CONFIRMATION, "an agent code")
    if found is None:
        return
    tenant, extension, action, _ = found
    if not do_set_agent_status(tenant.account, extension, action):
        not_in_service(session, f"extension {extension.number} is no agent to {action}")
        return
    session.answer()
    session.play(CONFIRMATION[action])
    session.hangup()
