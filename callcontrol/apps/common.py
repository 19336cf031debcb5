"""What the PBX apps (IVR, directory, follow-me, conferences) share: finding the call's
object in the tenant's schema, refusing calls that lead nowhere, prompts, and sending the
call on through the dialplan.

Every database read happens inside ``session.tenant_schema()`` and copies what the app
needs into plain values, so no primitive runs while the connection sits in a tenant's
schema. A ref is only ever looked up in the schema of the call's own domain, so another
tenant's pk finds nothing there (or this tenant's own row), never the other tenant's
object. A ref that is missing or not a number, one that finds nothing, a deleted object
or an unknown domain all end the same way: a clear prompt and a hangup with
UNALLOCATED_NUMBER, as the server does for an unknown app.
"""

from __future__ import annotations

import logging

from callcontrol import conf
from callcontrol.session import CallSession, UnknownTenant
from pbx.models.destinations import Destination, DestinationKind

log = logging.getLogger("callcontrol.apps")

REF_VARIABLE = "switchboard_ref"
GOODBYE = "voicemail/vm-goodbye.wav"
INVALID_ENTRY = "ivr/ivr-that_was_an_invalid_entry.wav"
BEEP = "tone_stream://%(500,0,640)"


def not_in_service_prompt() -> str:
    return conf.setting("CALLCONTROL_UNKNOWN_APP_PROMPT", conf.UNKNOWN_APP_PROMPT)


def ref_pk(session: CallSession) -> int | None:
    """The pk the dialplan passed in ``switchboard_ref`` (None if absent or malformed)."""
    value = session.variables.get(REF_VARIABLE, "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def not_in_service(session: CallSession, why: str) -> None:
    """The number leads nowhere: say so and hang up."""
    log.warning("call %s app=%s ref=%r: %s", session.uuid, session.app_name,
                session.variables.get(REF_VARIABLE, ""), why)
    session.answer()
    session.play(not_in_service_prompt())
    session.hangup("UNALLOCATED_NUMBER")


def goodbye(session: CallSession, cause: str = "NORMAL_CLEARING") -> None:
    session.play(GOODBYE)
    session.hangup(cause)


def tenant_or_none(session: CallSession):
    try:
        return session.tenant()
    except UnknownTenant:
        return None


def send_to(session: CallSession, value: str, *, on_behalf: int | None = None) -> None:
    """Transfer to a stored destination through the tenant's dialplan; an empty one or
    a bare ``hangup`` ends the call here. ``on_behalf``: the extension whose follow-me
    sends the call on, whose permission an outside number is then called with."""
    destination = Destination.parse(value) if value else None
    if destination is None:
        goodbye(session)
    elif destination.kind == DestinationKind.HANGUP:
        session.hangup(destination.ref or "NORMAL_CLEARING")
    else:
        session.transfer(destination.transfer_number, on_behalf=on_behalf)


def channel_rate(session: CallSession) -> int:
    rate = session.variables.get("read_rate", "")
    return int(rate) if rate.isdigit() else 8000


def prompt_path(prompt, rate: int = 8000) -> str | None:
    """The file FreeSWITCH plays for a tenant's Prompt (None if there is none or it is
    not converted yet). Call inside ``tenant_schema()``."""
    if prompt is None:
        return None
    from pbx.media import playable_path

    return playable_path(prompt, rate)


def moh_path(group, rate: int = 8000) -> str:
    """The hold music of a MohGroup (``local_stream://``). Inside ``tenant_schema()``."""
    from pbx.media import playable_path

    return playable_path(group, rate) or ""


def calling_extension(session: CallSession, actions, what: str):
    """(tenant, extension, action, rest) from a feature code's ``switchboard_ref``,
    ``<action>:<extension pk>[:<rest>]``, the extension looked up in the call's own
    tenant only; None (the caller told so) for anything else."""
    from pbx.models import Extension

    action, _, rest = session.variables.get("switchboard_ref", "").partition(":")
    pk, _, rest = rest.partition(":")
    tenant = tenant_or_none(session)
    if action not in actions or not pk.isdigit() or len(pk) > 12 or tenant is None:
        not_in_service(session, f"not {what}")
        return None
    with session.tenant_schema():
        extension = Extension.objects.filter(pk=int(pk)).first()
    if extension is None:
        not_in_service(session, f"extension {pk} does not exist")
        return None
    return tenant, extension, action, rest
