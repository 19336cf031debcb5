"""Find-me/follow-me ("follow_me" app, ``switchboard_ref`` = the FollowMe's pk; the
dialplan sends an extension's calls here when its follow-me is on; seeds 000/001).

Straight through:

1. Outside the follow-me's active hours (``pbx.schedules.evaluate`` says anything but
   open) the steps are skipped: straight to the fallback.
2. With ``record_name`` the caller is answered and asked for their name, recorded on the
   FreeSWITCH host (``CALLCONTROL_RECORDINGS_DIR``, one file per call, removed by an
   ``api_hangup_hook`` when the call ends); whoever answers a leg hears it before being
   connected.
3. Each step rings all its targets at once for its ``ring_seconds``: an extension rings
   every device it has (``user/<number>@<domain>``); an external number is called the
   way the tenant's dialplan would call it -- ``pbx.routing.plan_outbound`` (outgoing
   blocks, the account's call permissions, trunk choice and caller ID: the same function
   the dialplan and ring groups use) -- on the route's first gateway, as a ring-group member
   is. A refused number is left out of the step.
4. The caller hears ringback, or the follow-me's hold music, throughout (``ringback`` /
   ``transfer_ringback``, with ``ignore_early_media`` so a leg's early media -- a carrier's
   announcement -- does not replace it).
5. Between steps, with ``offer_voicemail``, the caller may press 1 to leave a message
   (the extension's box) or stay on the line.
6. After the last step: the fallback, or (empty) the extension's voicemail box, or a
   hangup when it has none.

Why not ``loopback/<~external:...>/<domain>`` legs for external numbers: the loopback
pair answers as soon as the dialplan behind it answers, so a failure prompt played there
(a blocked or barred number) would look like an answer to the bridge; it doubles the
channels of every leg; and before FreeSWITCH 1.10 group confirmation on loopback legs
did not run. A direct gateway leg fails with the carrier's cause, which is what a step
needs to know.

Confirmation (external targets of a step with ``confirm``): per-leg variables, supported
per leg since FreeSWITCH 1.10 (``switch_ivr_originate`` tests
``originate_test_group_confirm_local_var`` / ``..._timeout_leg``): ``group_confirm_key=1``
and ``group_confirm_file`` (the recorded name, then "press 1 to accept"), repeated with
``group_confirm_error_file`` on a wrong key; ``group_confirm_timeout`` bounds the time
from answer to the key, after which the leg is dropped -- so a carrier's voicemail, which
never presses 1, cannot take the call. ``leg_timeout`` keeps running while a leg waits for
its key, so such a leg gets ``CONFIRM_SECONDS`` more than the step's ring time. Legs that
need no key but should hear the caller's name use ``group_confirm_key=exec`` with
``group_confirm_file=playback <name>``. Per-leg variables are written ``[^^;a=b;c=d]``
(the ``^^<char>`` list separator of ``switch_event_create_brackets``) so no comma enters a
dial string.

Busy (seed 000 warns that ending the *call* when one destination is busy is harmful, so
neither setting does that): with ``ignore_busy`` off (the default), a busy target ends its
*step* at once (``fail_on_single_reject=USER_BUSY,CALL_REJECTED``: the other targets of
the step stop ringing) and the call goes on to the next step; with ``ignore_busy`` on, a
busy target is ignored and the others ring for the whole step.

Answered or not, a confirmed-then-bridged call ends the app when the conversation ends.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from callcontrol import conf
from callcontrol.apps import register
from callcontrol.apps.common import (
    BEEP,
    channel_rate,
    not_in_service,
    ref_pk,
    send_to,
    tenant_or_none,
)
from callcontrol.session import CallSession
from carriers.routing import CARRIER_LEG_VARIABLES
from pbx.followme import Leg, Plan, Step, plan_follow_me

log = logging.getLogger("callcontrol.apps.followme")

BUSY_CAUSES = "USER_BUSY,CALL_REJECTED"
CONFIRM_KEY = "1"
CONFIRM_SECONDS = 15
CONFIRM_READ_MS = 5000
OFFER_SECONDS = 4
NAME_SECONDS = 5
DEFAULT_RECORDINGS_DIR = "/tmp"

RECORD_NAME = "voicemail/vm-record_name1.wav"
ACCEPT_CALL = "ivr/ivr-accept_reject_voicemail.wav"
OFFER_VOICEMAIL = "file_string://voicemail/vm-press.wav!digits/1.wav!voicemail/vm-leave_message.wav"
NOT_AVAILABLE = "ivr/ivr-not_available.wav"
INVALID_ENTRY = "ivr/ivr-that_was_an_invalid_entry.wav"

def load_plan(session: CallSession, pk: int) -> Plan | None:
    from pbx.routing import Tenancy

    rate = channel_rate(session)
    with session.tenant_schema() as tenant:
        tenancy = Tenancy(tenant.account, tenant.primary_domain, tenant.trunk_owner_id,
                          domains=tenant.domains)
        return plan_follow_me(tenancy, pk, at=timezone.now(), rate=rate)


def _separator(values: list[str]) -> str:
    for candidate in ";~#":
        if not any(candidate in value for value in values):
            return candidate
    raise ValueError("no separator fits these leg variables")


def dial_leg(leg: Leg, variables: dict[str, str]) -> str:
    """``[^^;k=v;...]endpoint`` with the leg's own variables and ours."""
    merged = {**leg.variables, **variables}
    items = [f"{k}={v}" for k, v in merged.items()]
    sep = _separator(items)
    return f"[^^{sep}{sep.join(items)}]{leg.endpoint}"


def step_targets(step: Step, name_file: str) -> list[str]:
    targets = []
    for leg in step.legs:
        variables = {"leg_timeout": str(step.ring_seconds)}
        if leg.external and step.confirm:
            prompt = f"file_string://{name_file}!{ACCEPT_CALL}" if name_file else ACCEPT_CALL
            variables.update({
                "leg_timeout": str(step.ring_seconds + CONFIRM_SECONDS),
                "group_confirm_key": CONFIRM_KEY, "group_confirm_file": prompt,
                "group_confirm_error_file": INVALID_ENTRY,
                "group_confirm_read_timeout": str(CONFIRM_READ_MS),
                "group_confirm_timeout": str(CONFIRM_SECONDS),
            })
        elif name_file:
            variables.update({"group_confirm_key": "exec", "group_confirm_file": f"playback {name_file}"})
        targets.append(dial_leg(leg, variables))
    return targets


def record_caller_name(session: CallSession) -> str:
    folder = conf.setting("CALLCONTROL_RECORDINGS_DIR", DEFAULT_RECORDINGS_DIR).rstrip("/")
    path = f"{folder}/followme-name-{session.uuid}.wav"
    # The file lives on the FreeSWITCH host: FreeSWITCH removes it when the call ends.
    session.set("api_hangup_hook", f"system /bin/rm -f {path}")
    session.play(RECORD_NAME)
    session.play(BEEP)
    session.record(path, NAME_SECONDS, silence_seconds=2)
    return path


@register("follow_me")
def follow_me(session: CallSession) -> None:
    pk = ref_pk(session)
    if pk is None or tenant_or_none(session) is None:
        not_in_service(session, "no such follow-me")
        return
    plan = load_plan(session, pk)
    if plan is None:
        not_in_service(session, f"follow-me {pk} does not exist")
        return
    if plan.enabled and not plan.closed and plan.steps:
        answered = False
        name_file = ""
        if plan.record_name:
            session.answer()
            answered = True
            name_file = record_caller_name(session)
        session.set("ringback", plan.ringback)
        session.set("transfer_ringback", plan.ringback)
        session.set("ignore_early_media", "true")
        session.set("instant_ringback", "true")
        if not plan.ignore_busy:
            session.set("fail_on_single_reject", BUSY_CAUSES)
        if any(leg.external for step in plan.steps for leg in step.legs):
            # Carriers get our headers only, never the caller's (fsconf.destinations).
            for name, value in CARRIER_LEG_VARIABLES.items():
                session.set(name, value)
        for number, step in enumerate(plan.steps):
            if number and plan.offer_voicemail and plan.voicemail:
                if not answered:
                    session.answer()
                    answered = True
                choice = session.collect(1, 1, timeout=OFFER_SECONDS, terminators="none",
                                         prompt=OFFER_VOICEMAIL, regex="1")
                if choice == "1":
                    send_to(session, plan.voicemail)
                    return
            result = session.bridge(step_targets(step, name_file), step.ring_seconds,
                                    ring_grace=30.0 + CONFIRM_SECONDS)
            if result.connected:
                return
            log.info("call %s follow-me %s step %d: %s", session.uuid, pk, number + 1, result.cause)
    if plan.fallback:
        send_to(session, plan.fallback, on_behalf=plan.extension_pk)
    elif plan.voicemail:
        send_to(session, plan.voicemail)
    else:
        session.answer()
        session.play(NOT_AVAILABLE)
        session.hangup("NO_ANSWER")
