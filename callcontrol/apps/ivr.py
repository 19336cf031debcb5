"""The auto attendant ("ivr" app; ``switchboard_ref`` = the Ivr's pk), per seeds 002/003.

The greeting plays while the caller may already press keys. The first key must come
within ``attendant_timeout`` seconds after it; further keys within ``digit_timeout``
seconds of each other (no terminator: the caller stops pressing and the menu acts, as the
seed describes). What was pressed:

* one key (0-9, * or #) with a destination → the call goes there (a transfer through the
  tenant's dialplan; a key to another menu re-enters this app with that menu);
* several digits, when the menu allows dialing by extension, that are an enabled
  extension's number and that extension does not refuse it → ``~extension:<pk>``;
* anything else is an invalid entry, silence a timeout: their prompt plays and the menu
  repeats, until ``max_attempts`` invalid entries or timeouts in all; then the exit
  destination (empty: goodbye and hang up).
"""

from __future__ import annotations

from dataclasses import dataclass

from callcontrol.apps import register
from callcontrol.apps.common import (
    INVALID_ENTRY,
    channel_rate,
    not_in_service,
    prompt_path,
    ref_pk,
    send_to,
    tenant_or_none,
)
from callcontrol.session import CallSession
from pbx.models.destinations import Destination, DestinationKind

DEFAULT_GREETING = "ivr/ivr-welcome.wav"
DEFAULT_TIMEOUT_PROMPT = "ivr/ivr-no_input_received.wav"
MAX_EXTENSION_DIGITS = 6
KEYS = "0123456789*#"


@dataclass(frozen=True)
class Menu:
    greeting: str
    invalid_prompt: str
    timeout_prompt: str
    attendant_timeout: int
    digit_timeout: int
    max_attempts: int
    dial_by_extension: bool
    exit_destination: str
    options: dict[str, str]


def load_menu(session: CallSession, pk: int) -> Menu | None:
    from pbx.models import Ivr

    rate = channel_rate(session)
    with session.tenant_schema():
        ivr = Ivr.objects.select_related("greeting", "invalid_prompt", "timeout_prompt").filter(pk=pk).first()
        if ivr is None:
            return None
        return Menu(
            greeting=prompt_path(ivr.greeting, rate) or DEFAULT_GREETING,
            invalid_prompt=prompt_path(ivr.invalid_prompt, rate) or INVALID_ENTRY,
            timeout_prompt=prompt_path(ivr.timeout_prompt, rate) or DEFAULT_TIMEOUT_PROMPT,
            attendant_timeout=ivr.attendant_timeout,
            digit_timeout=ivr.digit_timeout,
            max_attempts=ivr.max_attempts,
            dial_by_extension=ivr.dial_by_extension,
            exit_destination=ivr.exit_destination,
            options=dict(ivr.options.values_list("key", "destination")),
        )


def extension_for(session: CallSession, digits: str) -> str:
    """The transfer number of the extension dialed by number ("" if none may be)."""
    from pbx.models import Extension

    with session.tenant_schema():
        pk = (Extension.objects.filter(number=digits, enabled=True, disallow_dial_by_extension=False)
              .values_list("pk", flat=True).first())
    return Destination(DestinationKind.EXTENSION, str(pk)).transfer_number if pk else ""


@register("ivr")
def ivr(session: CallSession) -> None:
    pk = ref_pk(session)
    if pk is None or tenant_or_none(session) is None:
        not_in_service(session, "no such menu")
        return
    menu = load_menu(session, pk)
    if menu is None:
        not_in_service(session, f"menu {pk} does not exist")
        return
    session.answer()
    max_digits = MAX_EXTENSION_DIGITS if menu.dial_by_extension else 1
    attempts = 0
    while attempts < menu.max_attempts:
        entry = session.collect(1, max_digits, timeout=menu.attendant_timeout, terminators="none",
                                prompt=menu.greeting, regex="[0-9*#]+",
                                digit_timeout=menu.digit_timeout)
        if not entry:
            attempts += 1
            session.play(menu.timeout_prompt)
            continue
        if len(entry) > 1 and entry.endswith("#"):
            entry = entry[:-1]  # "#" after an extension number ends it early
        if len(entry) == 1 and entry in menu.options:
            send_to(session, menu.options[entry])
            return
        if len(entry) > 1 and entry.isdigit():
            number = extension_for(session, entry)
            if number:
                session.transfer(number)
                return
        attempts += 1
        session.play(menu.invalid_prompt)
    send_to(session, menu.exit_destination)
