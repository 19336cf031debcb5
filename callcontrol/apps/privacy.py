"""Privacy screening for a phone number (issue 5): a caller whose caller ID has fewer
than ten digits keys one in before the call goes on. The dialplan hands such calls here
(``switchboard_ref`` = the number as dialed in the ``public`` context); afterwards the
call goes back to that number with ``switchboard_screened`` set, so it is not screened
twice, and with the keyed-in number as its caller ID."""

from __future__ import annotations

from callcontrol.apps import register
from callcontrol.session import CallSession

ENTER_NUMBER = "ivr/ivr-please_enter_the_phone_number.wav"
INVALID = "ivr/ivr-that_was_an_invalid_entry.wav"
GOODBYE = "voicemail/vm-goodbye.wav"
ATTEMPTS = 3
DIGIT_TIMEOUT = 7


@register("privacy")
def privacy_screening(session: CallSession) -> None:
    dialed = session.variables.get("switchboard_ref", "")
    session.answer()
    if not dialed.lstrip("+").isdigit():
        session.play(GOODBYE)
        session.hangup("UNALLOCATED_NUMBER")
        return
    for _ in range(ATTEMPTS):
        digits = session.collect(10, 15, timeout=DIGIT_TIMEOUT, terminators="#", prompt=ENTER_NUMBER)
        if len(digits) >= 10 and digits.isdigit():
            session.set("effective_caller_id_number", digits)
            session.set("switchboard_screened", "true")
            session.transfer(dialed, context="public")
            return
        session.play(INVALID)
    session.play(GOODBYE)
    session.hangup("CALL_REJECTED")
