"""The forwarding and do-not-disturb codes ("forwarding" app; seed 001): *71 / *72 / *73
+ a number set forward all / on busy / on no answer to it, *071 / *072 / *073 turn
that forward off (its destination is kept), *74 / *074 turn DND on / off.

``switchboard_ref`` is ``<action>:<extension pk>[:<number>]``, written by the dialplan
(pbx.routing.forwarding_code) from the code as dialed and the calling extension as the
directory authenticated its device: the code is parsed in one place, and the app does
not read the call's destination number (after a transfer it is no longer the code).
The pk is looked up in the call's own tenant only. A forward code without a number
asks for it ("#" ends it).

The change is pbx.actions.featurecodes.do_feature_code, the admin's own action: a
number that names nothing a forward may go to, or a forward that would loop, is refused
with its ValidationError, changes nothing, and the caller hears so.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from callcontrol.apps import register
from callcontrol.apps.common import INVALID_ENTRY, calling_extension
from callcontrol.session import CallSession

log = logging.getLogger("callcontrol.apps.forwarding")

FORWARD_SET = "ivr/ivr-call_forwarding_has_been_set.wav"
FORWARD_CANCELLED = "ivr/ivr-call_forwarding_has_been_cancelled.wav"
DND_ON = "ivr/ivr-dnd_activated.wav"
DND_OFF = "ivr/ivr-dnd_cancelled.wav"
ENTER_NUMBER = "ivr/ivr-please_enter_the_phone_number.wav"
REFUSED = f"file_string://{INVALID_ENTRY}!ivr/ivr-please_check_number_try_again.wav"
CONFIRMATION = {"all": FORWARD_SET, "busy": FORWARD_SET, "no_answer": FORWARD_SET,
                "all_off": FORWARD_CANCELLED, "busy_off": FORWARD_CANCELLED,
                "no_answer_off": FORWARD_CANCELLED, "dnd_on": DND_ON, "dnd_off": DND_OFF}
MAX_DIGITS = 20
DIGIT_TIMEOUT = 7
TRIES = 3


@register("forwarding")
def forwarding(session: CallSession) -> None:
    from pbx.actions.featurecodes import FORWARDS, do_feature_code

    found = calling_extension(session, CONFIRMATION, "a forwarding code")
    if found is None:
        return
    tenant, extension, action, number = found
    session.answer()
    if action in FORWARDS and not number:
        number = session.collect(1, MAX_DIGITS, timeout=DIGIT_TIMEOUT, terminators="#", prompt=ENTER_NUMBER,
                                 tries=TRIES, invalid_prompt=INVALID_ENTRY)
        if not number:
            session.play(REFUSED)
            session.hangup("NORMAL_CLEARING")
            return
    try:
        do_feature_code(tenant.account, extension, action, number if action in FORWARDS else "")
    except ValidationError as exc:
        log.info("call %s: extension %s %s %r refused: %s", session.uuid, extension.number, action,
                 number, "; ".join(exc.messages))
        session.play(REFUSED)
        session.hangup("NORMAL_CLEARING")
        return
    session.play(CONFIRMATION[action])
    session.hangup()
