"""A demo app that only exercises the stack end to end: answer, collect digits, say them
back one by one, hang up."""

from __future__ import annotations

from callcontrol.apps import register
from callcontrol.session import CallSession

PROMPT = "ivr/ivr-please_enter_the_number_followed_by_pound.wav"
NO_INPUT = "ivr/ivr-no_input_received.wav"


@register("echo_digits")
def echo_digits(session: CallSession) -> None:
    session.answer()
    digits = session.collect(1, 10, timeout=5, terminators="#", prompt=PROMPT)
    if not digits:
        session.play(NO_INPUT)
    for digit in digits:
        session.play(f"digits/{digit}.wav")
    session.hangup()
