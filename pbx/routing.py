"""Where a call goes: the routing rules of the tenant's PBX, decided in one place.

A *plan* is the ordered decisions a call meets at one dialplan lookup (blocked? which
schedule event matched? which forward applied?) and the one thing that then happens
(ring these devices for so long, go to that destination, leave a message, run a
call-control app, call out, hang up). The xml_curl dialplan renders a plan into
FreeSWITCH applications; ``pbx.explain`` renders the same plans into sentences, so what
we explain and what FreeSWITCH executes cannot drift apart.

One lookup decides only what is known at that moment. What depends on how ringing ends
(busy, no answer, not registered) is decided by the next lookup: the dialplan transfers
the call to ``~after:<disposition>:<destination>`` and :func:`plan_after` picks the
forward. Going on to another destination is a transfer to its ``transfer_number``, so
every destination is planned by the same code however the call reached it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import phonenumbers
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django_tenants.utils import schema_context

from carriers.numbering import PREMIUM
from carriers.routing import Caller, route_outbound, trunks_of
from pbx.models import (
    BlockDirection,
    CallBlock,
    CallQueue,
    ConferenceRoom,
    Destination,
    DestinationKind,
    Extension,
    Ivr,
    RingGroup,
    RingStrategy,
    VoicemailBox,
)
from pbx.models.destinations import TRANSFER_PREFIX
from pbx.numbering import PICKUP_PREFIX
from pbx.permissions import caller_of
from pbx.ringing import phone_dial
from tenants.models import Account, Domain
from tenants.tenancy import tenant_for_number
from tenants.validators import normalize_e164

CHECK_OWN_VOICEMAIL = "*97"
CHECK_ANY_VOICEMAIL = "*98"
# Call-queue agent codes (seed 001): *62 login, *062 logout, *95 pause, *095 unpause.
AGENT_CODES = {"*62": "login", "*062": "logout", "*95": "pause", "*095": "unpause"}
# Forwarding and do-not-disturb codes (seed 001), by the action the "forwarding" app runs
# (pbx.actions.featurecodes): *71 / *72 / *73 + a number turn that forward on to the
# number (alone: the app asks for it), *071 / *072 / *073 turn it off, *74 / *074 DND.
FORWARD_ON_CODES = {"*71": "all", "*72": "busy", "*73": "no_answer"}
SWITCH_CODES = {"*071": "all_off", "*072": "busy_off", "*073": "no_answer_off",
                "*74": "dnd_on", "*074": "dnd_off"}
# The longest number a forward code takes: an international number with its prefix.
MAX_FORWARD_DIGITS = 20
AFTER_PREFIX = "~after:"
# A forward or fallback chain longer than this is treated as a loop (loops are refused
# when saved; this only protects against data written around the actions).
MAX_HOPS = 8


class Outcome(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNREGISTERED = "unregistered"


# FreeSWITCH's originate_disposition (captured: USER_NOT_REGISTERED) → which forward.
DISPOSITIONS = {
    # An extension rings beside its directed-pickup leg, which has no leg_timeout. When
    # the phones' leg cannot even be created (no phone registered), that pickup leg is all
    # that is left: the bridge ends at once and reports the pickup leg's cause
    # (switch_ivr_originate.c: check_channel_status, then the first leg with a channel).
    # Busy and unanswered phones keep their own causes (the phones' leg comes first).
    "NO_PICKUP": Outcome.UNREGISTERED,
    "USER_BUSY": Outcome.BUSY,
    "CALL_REJECTED": Outcome.BUSY,  # the user pressed "decline" on the phone
    "NO_ANSWER": Outcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": Outcome.NO_ANSWER,
    "NO_USER_RESPONSE": Outcome.NO_ANSWER,
    "USER_NOT_REGISTERED": Outcome.UNREGISTERED,
    "SUBSCRIBER_ABSENT": Outcome.UNREGISTERED,
}


def outcome_of(disposition: str) -> Outcome:
    return DISPOSITIONS.get(disposition, Outcome.NO_ANSWER)


@dataclass(frozen=True)
class Tenancy:
    """The tenant a lookup runs for: its account, primary SIP domain (the name of its
    dialplan context and voicemail domain) and the account whose trunks it calls out on.

    A caller that keeps copies of the tenant's routing facts outside its schema (the
    xml_curl endpoint's public index) passes them in: ``extensions(by, value)`` gives an
    enabled extension as ``_EXTENSION_SQL`` reads it, or None to ask the schema, and
    ``call_blocks`` the CallBlock rows as dicts (the account's and every extension's,
    told apart by ``extension_id``). Without them (the explainer, the apps)
    everything is read from the schema, so tests comparing the two catch a copy that
    drifts."""
    account: Account
    domain: str
    trunk_owner_id: int | None
    extensions: Callable[[str, object], Extension | None] | None = None
    call_blocks: list[dict] | None = None
    # Every SIP domain of the tenant, primary first (its phones register under any of
    # them); empty: read from the account when a call rings phones (tenant_domains).
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    rule: str  # machine-readable: "blocked", "schedule", "forward_all", "dnd", ...
    text: str  # for people


# --- what finally happens at a lookup ---------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """Ring ``dial`` (a FreeSWITCH dial string) for ``seconds``; then ``after`` decides
    by how it ended (an extension's forwards), or the call goes to ``fallback``."""
    dial: str
    seconds: int
    description: str
    after: Destination | None = None
    fallback: Destination | None = None
    ringback: str = ""
    caller_id_name_prefix: str = ""
    # Call waiting off: FreeSWITCH's ``limit`` data that lets one call at a time ring or
    # talk to the extension and sends the next one to its busy handling.
    one_call_at_a_time: str = ""


@dataclass(frozen=True)
class GoTo:
    destination: Destination
    prompt: str = ""  # played first (a schedule event's announcement)
    # The number to transfer to when the destination has one people know (an extension
    # reached from a DID: FreeSWITCH's logs then show "1001", as in the capture).
    dial_as: str = ""

    @property
    def transfer_number(self) -> str:
        return self.dial_as or self.destination.transfer_number


@dataclass(frozen=True)
class Voicemail:
    box: str
    announcement_only: bool = False  # play the greeting, take no message
    greeting: str = ""  # uploaded greetings FreeSWITCH can play ("" = the recorded one)
    busy_greeting: str = ""
    busy: bool = False  # the callee was busy: the busy greeting applies


@dataclass(frozen=True)
class CheckVoicemail:
    box: str = ""  # empty: the caller is asked for the box


# Set by the dialplan before ``socket`` when an App has a fallback (fsconf.destinations);
# call control lets such a call go back to the dialplan when it cannot run the app.
APP_FALLBACK_VARIABLE = "switchboard_fallback"


@dataclass(frozen=True)
class App:
    name: str
    ref: str = ""
    # What the call does if the app cannot run it (call control unreachable, or its
    # database away): the dialplan carries it out after ``socket``. None: the app's
    # own tone and hangup.
    fallback: Final | None = None


@dataclass(frozen=True)
class Outbound:
    number: str
    bridge: str
    emergency: bool = False
    # The Diversion header the carrier gets (a forward of one of our extensions), "" for
    # none: the only SIP header of ours besides caller ID; the phone's are never copied.
    diversion: str = ""


@dataclass(frozen=True)
class OnNet:
    """A number an active account of this platform holds, dialed from one of its
    phones: the call goes straight in as a call to that number (the ``public``
    context's DID plan, with its blocked callers and privacy screening) presenting
    ``caller_id_number``, instead of out through a carrier and back. Once per call:
    a call that was already sent on-net (its route forwards out to a number on the
    platform again) goes out through ``carrier``."""
    number: str
    caller_id_number: str  # E.164, or "anonymous"
    caller_id_name: str
    carrier: Outbound


@dataclass(frozen=True)
class Hangup:
    cause: str


@dataclass(frozen=True)
class Pickup:
    """Answer a call ringing the group whose ringing registered ``key``."""
    key: str


@dataclass(frozen=True)
class Queue:
    """Wait in mod_callcenter's queue ``name`` (pbx.queues) until an agent answers; a
    caller whose wait ends (the queue's limits, no agent, the exit key) goes on to
    ``fallback``, or the call ends."""
    pk: int
    name: str
    description: str
    fallback: Destination | None = None
    hold_music: str = ""
    greeting: str = ""  # played once on entering
    caller_id_name_prefix: str = ""
    exit_key: str = ""


Final = Ring | GoTo | Voicemail | CheckVoicemail | App | Outbound | OnNet | Hangup | Pickup | Queue


def pickup_key(t: Tenancy, group_pk: int) -> str:
    """FreeSWITCH's pickup group of a ring group: the calls ringing it also ring
    ``pickup/<key>``, which the ``pickup <key>`` application answers. Named after the
    tenant's schema, so no other tenant's code can reach it."""
    return f"{t.account.schema_name}_ring_group_{group_pk}"


def extension_pickup_key(t: Tenancy, extension_pk: int) -> str:
    """The pickup group of one extension (directed pickup, *8 + its number), named like
    a ring group's: the tenant's schema, then the primary key."""
    return f"{t.account.schema_name}_extension_{extension_pk}"


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    final: Final = Hangup("UNALLOCATED_NUMBER")
    # When a time-dependent decision (a schedule) may change; None: only data changes
    # change it. A plan that must not be reused at all (random ring order) says ``now``.
    valid_until: datetime | None = None
    # The called extension's own incoming blocks (:func:`_plan_extension`), which stop a
    # call from outside before anything else of the plan: the dialplan matches the
    # caller's number with ``blocked_callers`` (a PCRE; "" blocks nobody), so one answer
    # serves every caller; the explainer reads ``caller_blocks``.
    blocked_callers: str = ""
    caller_blocks: tuple[CallBlock, ...] = ()

    def then(self, rule: str, text: str) -> Plan:
        self.steps.append(Step(rule, text))
        return self

    def ending(self, final: Final) -> Plan:
        self.final = final
        return self


# --- our own transfers ------------------------------------------------------------------
#
# ``~kind:ref`` and ``~after:...`` numbers are how one lookup hands a call to the next, and
# call-control apps to the dialplan. A phone can dial them too (sofia URL-decodes the
# request-URI user) and a phone can send a REFER naming one, which FreeSWITCH carries out
# as a blind transfer (switch_ivr_session_transfer, the same "bl_xfer" our transfers
# leave in transfer_source). So each of our transfers first sets a channel variable, which
# no SIP message can set (a phone's headers become ``sip_h_*`` variables), holding an HMAC
# over the context, the number and the extension the transfer is made for: only a lookup
# that carries it may plan a ``~`` number. It is bound to the number, so a REFER naming
# another ``~`` number on a channel we once transferred is still refused.
TRANSFER_PROOF_VARIABLE = "switchboard_transfer"
_AFTER_DISPOSITION = re.compile(r"^(~after:)[^:]*(:.*)$")


@dataclass(frozen=True)
class Transfer:
    """A lookup reached through one of our transfers; ``on_behalf`` is the extension (pk)
    whose follow-me or forward sent the call on, whose permission an outside number is
    called with (None: a configured route, the account's)."""
    on_behalf: int | None = None


def _transfer_mac(context: str, number: str, on_behalf: str) -> str:
    # The disposition of ``~after:<disposition>:...`` is FreeSWITCH's, filled in at run
    # time (${originate_disposition}): it is not part of what is signed.
    signed = _AFTER_DISPOSITION.sub(r"\1*\2", number)
    value = "\x1f".join((context.lower(), signed, on_behalf))
    return salted_hmac("switchboard.transfer", value, algorithm="sha256").hexdigest()[:32]


def transfer_proof(context: str, number: str, on_behalf: int | None = None) -> str:
    """The value of TRANSFER_PROOF_VARIABLE that lets the lookup of ``number`` in
    ``context`` plan it: ``<on_behalf>.<mac>``."""
    who = "" if on_behalf is None else str(on_behalf)
    return f"{who}.{_transfer_mac(context, number, who)}"


def proven_transfer(context: str, number: str, proof: str) -> Transfer | None:
    """The transfer ``proof`` (the channel's TRANSFER_PROOF_VARIABLE) shows for a lookup
    of ``number`` in ``context``; None when it shows none."""
    who, _, mac = proof.rpartition(".")
    if not mac or not (who == "" or (who.isdigit() and who.isascii())):
        return None
    if not constant_time_compare(mac, _transfer_mac(context, number, who)):
        return None
    return Transfer(int(who) if who else None)


# --- entry points -----------------------------------------------------------------------


def plan_dialed(t: Tenancy, dialed: str, *, caller: Caller | None, caller_username: str,
                at: datetime, transfer: Transfer | None = None) -> Plan:
    """What dialing ``dialed`` inside the tenant's context does. Emergency numbers come
    first, so nothing configured in the tenant can capture them. ``transfer``: the
    lookup was reached through one of our transfers (:func:`proven_transfer`); without
    it ``~`` numbers lead nowhere."""
    account = t.account
    if caller is not None and phonenumbers.is_emergency_number(dialed, account.country):
        return plan_outbound(t, dialed, caller)
    if dialed.startswith(TRANSFER_PREFIX) and transfer is None:
        return Plan().then("not_dialable", f"{dialed} is an internal transfer number: only the "
                                           "system's own transfers reach it.").ending(
            Hangup("UNALLOCATED_NUMBER"))
    if dialed.startswith(AFTER_PREFIX):
        return plan_after(t, dialed[len(AFTER_PREFIX):], at=at)
    destination = Destination.from_transfer_number(dialed)
    if destination is not None:
        if destination.kind == DestinationKind.EXTERNAL and transfer.on_behalf is not None:
            extension = _extension_by_pk(t, transfer.on_behalf)
            if extension is None:
                return _missing(Plan(), "The extension that forwarded the call no longer exists.")
            return forward_out(t, extension, destination.ref, Plan(), forward="follow_me")
        return plan_destination(t, destination, at=at)
    if dialed in (CHECK_OWN_VOICEMAIL, CHECK_ANY_VOICEMAIL):
        return _check_voicemail(t, dialed, caller_username)
    if dialed in AGENT_CODES and caller is not None:
        return _agent_code(t, AGENT_CODES[dialed], caller_username)
    code = forwarding_code(dialed) if caller is not None else None
    if code is not None:
        return _forwarding_code(t, *code, caller_username)
    if dialed.startswith("*") and caller is not None:
        with schema_context(account.schema_name):
            group = RingGroup.objects.filter(pickup_code=dialed).values_list("pk", "number").first()
        if group is not None:
            plan = Plan().then("pickup", f"Picks up a call ringing ring group {group[1]}.")
            return plan.ending(Pickup(pickup_key(t, group[0])))
        picked = _directed_pickup(t, dialed)
        if picked is not None:
            return picked
    if dialed.isdigit() and 3 <= len(dialed) <= 6:
        extension = _extension_by_number(t, dialed)
        if extension is not None:
            return _plan_extension(t, extension, Plan())
        destination = _numbered(t, dialed)
        if destination is not None:
            return plan_destination(t, destination, at=at)
    if caller is not None:
        return plan_outbound(t, dialed, caller, on_net=True, caller_username=caller_username)
    return Plan().ending(Hangup("UNALLOCATED_NUMBER"))


def plan_destination(t: Tenancy, destination: Destination, *, at: datetime,
                     plan: Plan | None = None) -> Plan:
    plan = plan or Plan()
    kind = destination.kind
    if kind == DestinationKind.EXTENSION:
        extension = _extension_by_pk(t, destination.pk)
        if extension is None:
            return _missing(plan, "The extension no longer exists.")
        return _plan_extension(t, extension, plan)
    if kind == DestinationKind.VOICEMAIL:
        with schema_context(t.account.schema_name):
            box = VoicemailBox.objects.filter(pk=destination.pk, enabled=True).first()
        if box is None:
            return _missing(plan, "The voicemail box no longer exists or is disabled.")
        return plan.ending(voicemail_final(box.number, box.announcement_only, box.greeting_unavailable_id,
                                           box.greeting_busy_id, t=t))
    if kind == DestinationKind.RING_GROUP:
        return _plan_ring_group(t, destination, plan, at)
    if kind == DestinationKind.SCHEDULE:
        return _plan_schedule(t, destination, plan, at)
    if kind == DestinationKind.QUEUE:
        return _plan_queue(t, destination, plan)
    if kind == DestinationKind.EXTERNAL:
        return plan_outbound(t, destination.ref, platform_caller(t.account), plan=plan,
                             forwarded=True, on_net=True)
    if kind in APP_KINDS:
        return plan.ending(App(APP_KINDS[kind], destination.ref))
    if kind == DestinationKind.CHECK_VOICEMAIL:
        return plan.ending(CheckVoicemail())
    return plan.ending(Hangup(destination.ref or "NORMAL_CLEARING"))


def voicemail_final(box: str, announcement_only: bool, unavailable_id: int | None, busy_id: int | None,
                    *, t: Tenancy, busy: bool = False) -> Voicemail:
    """Leaving a message in ``box``, with the box's uploaded greetings as FreeSWITCH
    plays them (read only when the box has any)."""
    greetings = {"": ""}
    if unavailable_id or busy_id:
        from pbx.media import playable_path
        from pbx.models import Prompt

        with schema_context(t.account.schema_name):
            for prompt in Prompt.objects.filter(pk__in=[unavailable_id, busy_id]):
                greetings[prompt.pk] = playable_path(prompt) or ""
    return Voicemail(box, announcement_only=announcement_only, busy=busy,
                     greeting=greetings.get(unavailable_id or "", ""),
                     busy_greeting=greetings.get(busy_id or "", ""))


def _missing(plan: Plan, why: str) -> Plan:
    return plan.then("missing", why).ending(Hangup("UNALLOCATED_NUMBER"))


# The destinations run by call-control apps (issue 4), by app name.
APP_KINDS = {
    DestinationKind.IVR: "ivr",
    DestinationKind.CONFERENCE: "conference",
    DestinationKind.CONFERENCE_HUB: "conference_hub",
    DestinationKind.DIRECTORY: "directory",
}


def plan_after(t: Tenancy, rest: str, *, at: datetime) -> Plan:
    """After ringing ended without an answer: ``rest`` is ``<disposition>:<destination>``."""
    disposition, _, value = rest.partition(":")
    destination = Destination.from_transfer_number("~" + value)
    plan = Plan()
    if destination is None or destination.kind != DestinationKind.EXTENSION:
        return plan.ending(Hangup(disposition or "NORMAL_CLEARING"))
    extension = _extension_by_pk(t, destination.pk)
    if extension is None:
        return plan.ending(Hangup(disposition or "NORMAL_CLEARING"))
    return after_ringing(t, extension, outcome_of(disposition), plan, disposition=disposition)


def after_ringing(t: Tenancy, extension: Extension, outcome: Outcome, plan: Plan, *,
                  disposition: str = "") -> Plan:
    """The extension's forward for how its ringing ended, else its voicemail."""
    name = outcome.value
    if getattr(extension, f"forward_{name}") and getattr(extension, f"forward_{name}_to"):
        target = Destination.parse(getattr(extension, f"forward_{name}_to"))
        why = _OUTCOME_TEXT[outcome]
        plan.then(f"forward_{name}", f"{why}: forwarded ({name.replace('_', ' ')} forward).")
        return _forward_to(t, extension, target, plan, name)
    return _voicemail_or_hangup(t, extension, plan, disposition or _OUTCOME_CAUSE[outcome],
                                _OUTCOME_TEXT[outcome], busy=outcome is Outcome.BUSY)


_OUTCOME_TEXT = {
    Outcome.BUSY: "Busy",
    Outcome.NO_ANSWER: "No answer",
    Outcome.UNREGISTERED: "No phone registered",
}
_OUTCOME_CAUSE = {
    Outcome.BUSY: "USER_BUSY",
    Outcome.NO_ANSWER: "NO_ANSWER",
    Outcome.UNREGISTERED: "USER_NOT_REGISTERED",
}


# --- extensions -------------------------------------------------------------------------


def _plan_extension(t: Tenancy, extension: Extension, plan: Plan) -> Plan:
    """The extension's own blocked callers, then forward-all, then DND, then follow-me
    or ringing all devices; how ringing ends is decided by :func:`plan_after`."""
    if not extension.enabled:
        return plan.then("disabled", f"Extension {extension.number} is disabled.").ending(
            Hangup("UNALLOCATED_NUMBER"))
    _own_blocked_callers(t, extension, plan)
    if extension.forward_all and extension.forward_all_to:
        plan.then("forward_all", f"Extension {extension.number} forwards all calls.")
        return _forward_to(t, extension, Destination.parse(extension.forward_all_to), plan, "all")
    if extension.do_not_disturb:
        plan.then("dnd", f"Extension {extension.number} is on do not disturb.")
        if extension.forward_busy and extension.forward_busy_to:
            plan.then("forward_busy", "Callers go to the busy forward.")
            return _forward_to(t, extension, Destination.parse(extension.forward_busy_to), plan, "dnd")
        return _voicemail_or_hangup(t, extension, plan, "USER_BUSY", "Do not disturb", busy=True)
    follow_me = extension.active_follow_me
    if follow_me is not None:
        plan.then("follow_me", f"Extension {extension.number} has follow-me on.")
        # Without call control the extension's own phones still ring (issue 17).
        return plan.ending(App("follow_me", str(follow_me), fallback=_ring_phones(t, extension)))
    return plan.ending(_ring_phones(t, extension))


def _own_blocked_callers(t: Tenancy, extension: Extension, plan: Plan) -> None:
    """The extension's own incoming blocks, for a call offered to it: dialed, or reached
    as a destination (a number's route, a forward, a transfer, an attendant's key, a
    fallback). Not when it rings as one member of a ring group or an agent of a queue:
    that call is the group's, which colleagues answer. The dialplan applies them to calls
    from outside only (no authenticated phone of the tenant), as the account's blocks."""
    from pbx.blocking import incoming_pattern

    blocks = _blocks(t, not_direction=BlockDirection.OUTGOING, extension_pk=extension.pk)
    if blocks:
        plan.caller_blocks = tuple(blocks)
        plan.blocked_callers = incoming_pattern(blocks, country=t.account.country)


def _ring_phones(t: Tenancy, extension: Extension) -> Ring:
    """Ring every device of the extension beside its pickup leg; how ringing ends is
    decided by :func:`plan_after`."""
    itself = Destination(DestinationKind.EXTENSION, str(extension.pk))
    busy = f"{AFTER_PREFIX}USER_BUSY:{itself}"
    # The pickup leg rings beside the phones for as long as they ring, so *8 + the
    # number answers the call. It has no leg_timeout: FreeSWITCH then ends the bridge as
    # soon as the phones' leg has failed (busy, not registered) instead of waiting for
    # it, and the phones' leg, first, keeps giving the disposition (see DISPOSITIONS).
    pickup = f"pickup/{extension_pickup_key(t, extension.pk)}"
    phones = phone_dial(extension.number, _device_usernames(t, extension), tenant_domains(t))
    return Ring(
        dial=",".join([*phones, pickup]), seconds=extension.ring_seconds,
        description=f"extension {extension.number}'s phones", after=itself,
        one_call_at_a_time=("" if extension.call_waiting
                            else f"hash {t.account.schema_name} extension_{extension.pk} 1 {busy}"),
    )


def tenant_domains(t: Tenancy) -> tuple[str, ...]:
    """The tenant's SIP domains, primary first: those the caller passed, else one query."""
    if t.domains:
        return t.domains
    names = tuple(Domain.objects.filter(tenant=t.account).order_by("-is_primary", "domain")
                  .values_list("domain", flat=True))
    return (t.domain, *(name for name in names if name != t.domain))


def _device_usernames(t: Tenancy, extension: Extension) -> list[str]:
    """The extension's enabled devices, as its routing query (or the index's copy of it)
    read them; asked of the schema for an index row written before that column existed."""
    usernames = getattr(extension, "device_usernames", None)
    if usernames is None:
        with schema_context(t.account.schema_name):
            usernames = list(extension.devices.filter(enabled=True).order_by("username")
                             .values_list("username", flat=True))
    return list(usernames)


def _voicemail_or_hangup(t: Tenancy, extension: Extension, plan: Plan, cause: str, why: str, *,
                         busy: bool = False) -> Plan:
    box = extension.voicemail_box_number
    if extension.voicemail_enabled and box:
        plan.then("voicemail", f"{why}: voicemail box {box}.")
        return plan.ending(voicemail_final(
            box, extension.voicemail_announcement_only, extension.voicemail_greeting_unavailable_id,
            extension.voicemail_greeting_busy_id, busy=busy, t=t))
    plan.then("no_voicemail", f"{why}: no voicemail, the call ends.")
    return plan.ending(Hangup(cause))


# One query: the extension with what its routing needs from related rows.
# What routing reads besides the extension's own columns: name -> SQL over the extension
# ``e`` and its enabled voicemail box ``{box}``. The xml_curl public index copies the same
# (fsconf.directory_index), so both are written from this one definition.
EXTENSION_EXTRAS = {
    "voicemail_box_number": "{box}.number",
    "voicemail_announcement_only": "{box}.announcement_only",
    "voicemail_greeting_unavailable_id": "{box}.greeting_unavailable_id",
    "voicemail_greeting_busy_id": "{box}.greeting_busy_id",
    # The enabled devices' SIP usernames, which the extension's ring lists (pbx.ringing).
    "device_usernames": ("(SELECT COALESCE(array_agg(d.username ORDER BY d.username), ARRAY[]::text[])"
                         " FROM {schema}.pbx_device d WHERE d.extension_id = e.id AND d.enabled)"),
    "active_follow_me": ("(SELECT f.id FROM {schema}.pbx_followme f"
                         " WHERE f.extension_id = e.id AND f.enabled AND EXISTS"
                         " (SELECT 1 FROM {schema}.pbx_followmestep s WHERE s.follow_me_id = f.id))"),
}
_EXTENSION_SQL = (
    "SELECT e.*, "
    + ", ".join(f"{expression.replace('{box}', 'b')} AS {name}"
                for name, expression in EXTENSION_EXTRAS.items())
    + """
    FROM {schema}.pbx_extension e
    LEFT JOIN {schema}.pbx_voicemailbox b ON b.extension_id = e.id AND b.enabled
    WHERE {where}
""")


def _extension_query(t: Tenancy, where: str, param: object) -> Extension | None:
    """Schema-qualified, so the hot path needs no search_path switch."""
    sql = _EXTENSION_SQL.format(schema=connection.ops.quote_name(t.account.schema_name), where=where)
    rows = list(Extension.objects.raw(sql, [param]))
    return rows[0] if rows else None


def _extension_by_number(t: Tenancy, number: str) -> Extension | None:
    copied = t.extensions("number", number) if t.extensions is not None else None
    return copied or _extension_query(t, "e.number = %s", number)


def _extension_by_pk(t: Tenancy, pk: int | None) -> Extension | None:
    if pk is None:
        return None
    copied = t.extensions("pk", pk) if t.extensions is not None else None
    return copied or _extension_query(t, "e.id = %s", pk)


# Every kind reached by an internal number; the numbering plan gives each number to one.
_NUMBERED = ((DestinationKind.RING_GROUP, RingGroup), (DestinationKind.CONFERENCE, ConferenceRoom),
             (DestinationKind.IVR, Ivr), (DestinationKind.QUEUE, CallQueue))


def _numbered(t: Tenancy, number: str) -> Destination | None:
    """A ring group, conference room, IVR or call queue reached by its internal number,
    in one schema-qualified query."""
    schema = connection.ops.quote_name(t.account.schema_name)
    sql = " UNION ALL ".join(
        f"SELECT '{kind.value}', id FROM {schema}.{connection.ops.quote_name(model._meta.db_table)} "
        "WHERE number = %s" for kind, model in _NUMBERED)
    with connection.cursor() as cursor:
        cursor.execute(sql + " LIMIT 1", [number] * len(_NUMBERED))
        row = cursor.fetchone()
    return Destination(row[0], str(row[1])) if row else None


def _check_voicemail(t: Tenancy, dialed: str, caller_username: str) -> Plan:
    plan = Plan()
    if dialed == CHECK_ANY_VOICEMAIL:
        return plan.ending(CheckVoicemail())
    with schema_context(t.account.schema_name):
        box = (VoicemailBox.objects.filter(extension__devices__username=caller_username)
               .values_list("number", flat=True).first())
    if box is None:
        return plan.then("no_voicemail", "The calling device has no voicemail box.").ending(
            Hangup("UNALLOCATED_NUMBER"))
    return plan.ending(CheckVoicemail(box))


# --- ring groups ------------------------------------------------------------------------


def _plan_ring_group(t: Tenancy, destination: Destination, plan: Plan, at: datetime) -> Plan:
    with schema_context(t.account.schema_name):
        group = RingGroup.objects.filter(pk=destination.pk).first()
        members = list(group.members.filter(enabled=True)) if group else []
        phones = {pk: (number, usernames or []) for pk, number, usernames in Extension.objects.filter(
            pk__in=[Destination.parse(m.destination).pk for m in members
                    if m.destination.startswith("extension:")], enabled=True,
        ).annotate(usernames=ArrayAgg("devices__username", filter=Q(devices__enabled=True),
                                      order_by="devices__username"),
                   ).values_list("pk", "number", "usernames")}
    if group is None:
        return _missing(plan, "The ring group no longer exists.")
    fallback = Destination.parse(group.fallback) if group.fallback else None
    # (endpoints, seconds, who): an extension member is all its devices' legs at once.
    legs: list[tuple[list[str], int, str]] = []
    for member in members:
        target = Destination.parse(member.destination)
        seconds = member.ring_seconds or group.ring_seconds
        if target.kind == DestinationKind.EXTENSION and target.pk in phones:
            number, usernames = phones[target.pk]
            legs.append((phone_dial(number, usernames, tenant_domains(t)), seconds, number))
        elif target.kind == DestinationKind.EXTERNAL:
            route = plan_outbound(t, target.ref, platform_caller(t.account), forwarded=True)
            if isinstance(route.final, Outbound):
                # The first gateway: a member leg cannot fail over inside a group leg.
                legs.append(([route.final.bridge.split("|")[0]], seconds, target.ref))
    if not legs:
        plan.then("no_members", f"Ring group {group.number} has no member to ring.")
        return plan.ending(GoTo(fallback) if fallback else Hangup("NO_ANSWER"))
    if group.strategy == RingStrategy.RANDOM:
        random.shuffle(legs)
        plan.valid_until = at  # a new order for every call: never reused
    rounds = group.repeat + 1
    # While the group rings, its pickup endpoint rings too: the pickup code answers it.
    pickup = [f"pickup/{pickup_key(t, group.pk)}"] if group.pickup_code else []

    def timed(endpoints: list[str], seconds: int) -> str:
        return ",".join(f"[leg_timeout={seconds}]{endpoint}" for endpoint in endpoints)

    if group.strategy == RingStrategy.SIMULTANEOUS:
        one_round = timed([endpoint for endpoints, _, _ in legs for endpoint in endpoints] + pickup,
                          group.ring_seconds)
        dial = "|".join([one_round] * rounds)
        total = group.ring_seconds * rounds
        how = "all at once (" + ", ".join(who for _, _, who in legs) + f") for {group.ring_seconds} s"
    else:
        dial = "|".join(timed([*endpoints, *pickup], seconds) for endpoints, seconds, _ in legs * rounds)
        total = sum(seconds for _, seconds, _ in legs) * rounds
        how = "one after another (" + ", ".join(f"{who} {s} s" for _, s, who in legs) + ")"
    repeat = f", {rounds} times" if rounds > 1 else ""
    plan.then("ring_group", f"Ring group {group.number} {group.name} rings {how}{repeat}.")
    return plan.ending(Ring(
        dial=dial, seconds=total, description=f"ring group {group.number}", fallback=fallback,
        caller_id_name_prefix=group.caller_id_name_prefix,
        ringback=moh_stream(t.account, group.moh_group_id),
    ))


def moh_stream(account: Account, moh_group_id: int | None) -> str:
    """What callers hear from a tenant's music-on-hold group ("" for none: ringback)."""
    if not moh_group_id:
        return ""
    from pbx.media import playable_path
    from pbx.models import MohGroup

    with schema_context(account.schema_name):
        group = MohGroup.objects.filter(pk=moh_group_id).first()
        return (playable_path(group) or "") if group is not None else ""


# --- call queues ------------------------------------------------------------------------


def _plan_queue(t: Tenancy, destination: Destination, plan: Plan) -> Plan:
    from django.db.models import Exists, OuterRef

    from pbx.media import STOCK_MOH, stream_name
    from pbx.models import MediaStatus, MohTrack
    from pbx.queues import queue_name

    with schema_context(t.account.schema_name):
        ready = MohTrack.objects.filter(group_id=OuterRef("moh_group_id"), status=MediaStatus.READY)
        queue = (CallQueue.objects.select_related("greeting").annotate(moh_ready=Exists(ready))
                 .filter(pk=destination.pk).first())
        if queue is None:
            return _missing(plan, "The call queue no longer exists.")
        greeting = _prompt_path(queue.greeting)
    # media.playable_path's rule for a group, read in the same query: its stream once a
    # track is ready, until then the stock music.
    hold_music = (f"local_stream://{stream_name(t.account.schema_name, queue.moh_group_id)}"
                  if queue.moh_group_id and queue.moh_ready else STOCK_MOH)
    plan.then("queue", f"Call queue {queue.number} {queue.name}: the caller waits for an agent.")
    return plan.ending(Queue(
        pk=queue.pk, name=queue_name(queue.pk, t.domain), description=f"call queue {queue.number}",
        fallback=Destination.parse(queue.fallback) if queue.fallback else None, hold_music=hold_music,
        greeting=greeting, caller_id_name_prefix=queue.caller_id_name_prefix, exit_key=queue.exit_key,
    ))


def _agent_code(t: Tenancy, action: str, caller_username: str) -> Plan:
    """An agent feature code: the call-control app sets the calling extension's agents
    (pbx.actions.queues.do_set_agent_status) and says so."""
    extension = _calling_extension(t, caller_username)
    if extension is None:
        return Plan().then("not_agent", "The calling device has no extension.").ending(
            Hangup("UNALLOCATED_NUMBER"))
    plan = Plan().then("agent_code", f"Extension {extension[1]}: queue agent {action}.")
    return plan.ending(App("queue_agent", f"{action}:{extension[0]}"))


def _calling_extension(t: Tenancy, caller_username: str) -> tuple[int, str] | None:
    """(pk, number) of the extension whose device placed the call, as the directory
    authenticated it: the only extension a feature code may change."""
    if not caller_username:
        return None
    with schema_context(t.account.schema_name):
        return (Extension.objects.filter(devices__username=caller_username)
                .values_list("pk", "number").first())


# --- forwarding, do not disturb and directed pickup codes -------------------------------


def forwarding_code(dialed: str) -> tuple[str, str] | None:
    """(action, number) when ``dialed`` is a forwarding or DND code: ``*71803`` is
    ("all", "803"), ``*71`` ("all", ""), ``*074`` ("dnd_off", ""). A "#" the phone sent
    to end the number is not part of it."""
    code = dialed[:-1] if dialed.endswith("#") else dialed
    if code in SWITCH_CODES:
        return SWITCH_CODES[code], ""
    prefix, number = code[:3], code[3:]
    if prefix in FORWARD_ON_CODES and (number == "" or (number.isdigit() and number.isascii()
                                                         and len(number) <= MAX_FORWARD_DIGITS)):
        return FORWARD_ON_CODES[prefix], number
    return None


FORWARD_LABELS = {"all": "forward all calls", "busy": "forward when busy",
                  "no_answer": "forward when not answered"}
SWITCH_LABELS = {"all_off": "all-calls forward off", "busy_off": "busy forward off",
                 "no_answer_off": "no-answer forward off", "dnd_on": "do not disturb on",
                 "dnd_off": "do not disturb off"}


def _forwarding_code(t: Tenancy, action: str, number: str, caller_username: str) -> Plan:
    """The "forwarding" call-control app changes the calling extension through the
    actions (pbx.actions.featurecodes) and says so; ``switchboard_ref`` carries
    ``<action>:<extension pk>[:<number as dialed>]``. The number is read into a
    destination when the change is made, not here: this lookup stays one query."""
    extension = _calling_extension(t, caller_username)
    if extension is None:
        return Plan().then("no_extension", "The calling device has no extension.").ending(
            Hangup("UNALLOCATED_NUMBER"))
    if action in FORWARD_LABELS:
        to = f" to {number}" if number else "; the caller is asked for the number"
        text = f"Extension {extension[1]}: {FORWARD_LABELS[action]}{to}."
    else:
        text = f"Extension {extension[1]}: {SWITCH_LABELS[action]}."
    ref = f"{action}:{extension[0]}" + (f":{number}" if number else "")
    return Plan().then("forwarding_code", text).ending(App("forwarding", ref))


def _directed_pickup(t: Tenancy, dialed: str) -> Plan | None:
    """*8 + an extension number of this tenant: answer a call ringing that extension
    (its ``pickup/<key>`` leg, :func:`_plan_extension`). pbx.numbering keeps ring
    groups' pickup codes (looked up first) off the plan's numbers, so both never match."""
    number = dialed[len(PICKUP_PREFIX):]
    if not dialed.startswith(PICKUP_PREFIX) or not (number.isdigit() and 3 <= len(number) <= 6):
        return None
    with schema_context(t.account.schema_name):
        pk = Extension.objects.filter(number=number).values_list("pk", flat=True).first()
    if pk is None:
        return None
    plan = Plan().then("pickup", f"Picks up a call ringing extension {number}.")
    return plan.ending(Pickup(extension_pickup_key(t, pk)))


# --- schedules --------------------------------------------------------------------------


def _plan_schedule(t: Tenancy, destination: Destination, plan: Plan, at: datetime) -> Plan:
    from pbx.models import Schedule
    from pbx.schedules import evaluate

    with schema_context(t.account.schema_name):
        schedule = Schedule.objects.prefetch_related("events").filter(pk=destination.pk).first()
        if schedule is None:
            return _missing(plan, "The schedule no longer exists.")
        decision = evaluate(schedule, at, default_timezone=t.account.timezone)
        prompt = _prompt_path(decision.prompt)
    plan.then("schedule", f"Schedule {schedule.name}: {decision.reason}")
    plan.valid_until = decision.valid_until
    if not decision.destination:
        plan.then("no_route", f"Nothing is set for {decision.action}: the call ends.")
        return plan.ending(Hangup("NORMAL_CLEARING"))
    return plan.ending(GoTo(Destination.parse(decision.destination), prompt=prompt))


def _prompt_path(prompt) -> str:
    from pbx.media import playable_path

    return (playable_path(prompt) or "") if prompt is not None else ""


# --- calling out ------------------------------------------------------------------------


def platform_caller(account: Account) -> Caller:
    """The caller a configured route calls out as (a forward to a mobile, an external
    ring group member): the account's own number, with what the account may dial."""
    allowed = ({"local", "domestic"} | ({"international"} if account.allow_international else set())
               | ({PREMIUM} if account.allow_premium_rate else set()))
    return Caller(toll_allow=frozenset(allowed), caller_id_number=account.outbound_caller_id,
                  caller_id_name=account.name)


# RFC 5806 reasons, by the forward (Extension.FORWARDS, "dnd", "follow_me") that sent a
# call on to an outside number.
DIVERSION_REASONS = {"all": "unconditional", "busy": "user-busy", "no_answer": "no-answer",
                     "unregistered": "unavailable", "dnd": "do-not-disturb", "follow_me": "follow-me"}


def forwarding_caller(account: Account, extension: Extension) -> Caller:
    """An extension's forward or follow-me calling out: with the extension's own call
    permission (a phone limited to internal calls must not reach a carrier by
    forwarding), presenting the account's number and name as configured routes do."""
    return Caller(toll_allow=caller_of(account, extension).toll_allow,
                  caller_id_number=account.outbound_caller_id, caller_id_name=account.name)


def diversion_header(t: Tenancy, extension: Extension, forward: str) -> str:
    """Our Diversion header for a call ``extension`` forwards out: its DID (the first of
    the account's numbers routed to it; else its caller ID; else the account's), which
    carriers use to accept and bill forwarded calls. Never the phone's own header."""
    from tenants.models import PhoneNumber

    did = (PhoneNumber.objects.filter(account_id=t.account.pk, route=f"extension:{extension.pk}")
           .order_by("e164").values_list("e164", flat=True).first()
           or extension.outbound_caller_id_number or t.account.outbound_caller_id)
    if not did:
        return ""
    return f"<sip:{did}@{t.domain}>;reason={DIVERSION_REASONS[forward]};counter=1"


def forward_out(t: Tenancy, extension: Extension, number: str, plan: Plan, *, forward: str) -> Plan:
    """``extension``'s ``forward`` sends the call to the outside ``number``: placed in
    this lookup with the extension's permission (never through a ``~external:``
    transfer, which configured routes use with the account's), with our Diversion."""
    planned = plan_outbound(t, number, forwarding_caller(t.account, extension), plan=plan, forwarded=True,
                            on_net=True, extension_pk=extension.pk)
    if isinstance(planned.final, Outbound):
        planned.final = replace(planned.final, diversion=diversion_header(t, extension, forward))
    return planned


def _forward_to(t: Tenancy, extension: Extension, target: Destination, plan: Plan, forward: str) -> Plan:
    if target.kind == DestinationKind.EXTERNAL:
        return forward_out(t, extension, target.ref, plan, forward=forward)
    return plan.ending(GoTo(target))


def plan_outbound(t: Tenancy, dialed: str, caller: Caller, *, plan: Plan | None = None,
                  forwarded: bool = False, on_net: bool = False, extension_pk: int | None = None,
                  caller_username: str = "") -> Plan:
    """An outside number: blocked, refused by the caller's permission, or placed on the
    trunks. ``on_net``: a number the platform holds is reached on-net (:class:`OnNet`)
    once the caller's permission allows calling it; the callers that build a bridge of
    their own (ring-group members, follow-me steps) leave it off and use the carrier.
    The account's outgoing blocks apply, and the calling extension's own: the one whose
    forward or follow-me this is (``extension_pk``), or the one whose phone
    (``caller_username``, its SIP user) dialed."""
    plan = plan or Plan()
    blocked = _outgoing_block(t, dialed, extension_pk=extension_pk, caller_username=caller_username)
    if blocked:
        return plan.then("blocked", f"{dialed} is blocked for outgoing calls ({blocked}).").ending(
            Hangup("CALL_REJECTED"))
    route = route_outbound(t.account, trunks_of(t.trunk_owner_id), dialed, caller)
    if route.refused:
        cause = "UNALLOCATED_NUMBER" if route.dialed is None else route.refused
        why = f"{dialed} cannot be called out ({cause}): {route.reason}."
        return plan.then(route.refusal.value, why).ending(Hangup(cause))
    if forwarded:
        plan.then("external", f"Calls out to {route.dialed.number}.")
    outbound = Outbound(route.dialed.number, "|".join(leg.bridge_string() for leg in route.legs),
                        emergency=route.emergency)
    if on_net and not route.emergency and _held_on_platform(route.dialed.number):
        # Not which account holds it: another tenant's name is not this one's to see.
        plan.then("on_net", f"{route.dialed.number} is a number on this platform: the call arrives as a "
                            "call to it (its blocked callers and privacy screening apply), without a "
                            "carrier.")
        return plan.ending(OnNet(route.dialed.number, *_on_net_caller_id(t, caller), carrier=outbound))
    return plan.ending(outbound)


def _held_on_platform(e164: str) -> bool:
    """An account that serves holds ``e164`` (one indexed lookup, as for a carrier's call)."""
    found = tenant_for_number(e164)
    return found is not None and found[1].serving


def _on_net_caller_id(t: Tenancy, caller: Caller) -> tuple[str, str]:
    """What the called tenant sees, as from a carrier: the calling extension's outbound
    caller ID, else the account's, as E.164; a number that is not one is withheld
    (``anonymous``) rather than shown as a short extension number the called tenant
    could take for one of its own."""
    name = caller.caller_id_name or t.account.name
    for number in (caller.caller_id_number, t.account.outbound_caller_id):
        if number:
            try:
                return normalize_e164(number), name
            except ValidationError:
                continue
    return "anonymous", name


def _outgoing_block(t: Tenancy, dialed: str, *, extension_pk: int | None = None,
                    caller_username: str = "") -> str:
    """The comment (or pattern) of the block that stops calling ``dialed``, or "": the
    account's outgoing blocks and the calling extension's own (the most specific wins)."""
    from pbx.blocking import blocked

    blocks = _blocks(t, not_direction=BlockDirection.INCOMING)
    if extension_pk is None and caller_username and _any_own_blocks(t, BlockDirection.INCOMING):
        extension_pk = _calling_extension_pk(t, caller_username)
    if extension_pk is not None:
        blocks += _blocks(t, not_direction=BlockDirection.INCOMING, extension_pk=extension_pk)
    block = (blocked(blocks, _e164(dialed, t.account.country), "outgoing", country=t.account.country)
             if blocks else None)
    return (block.comment or block.pattern) if block else ""


def _blocks(t: Tenancy, *, not_direction: str, extension_pk: int | None = None) -> list[CallBlock]:
    """The account's blocks (``extension_pk`` None) or one extension's own, but those of
    ``not_direction``; schema-qualified like the extension lookup: no search_path switch
    on the hot path."""
    if t.call_blocks is not None:
        return [CallBlock(id=row["id"], pattern=row["pattern"], anonymous=row["anonymous"],
                          direction=row["direction"], comment=row["comment"], extension_id=extension_pk)
                for row in t.call_blocks
                if row["direction"] != not_direction and row.get("extension_id") == extension_pk]
    schema = connection.ops.quote_name(t.account.schema_name)
    table = connection.ops.quote_name(CallBlock._meta.db_table)
    return list(CallBlock.objects.raw(
        f"SELECT * FROM {schema}.{table} WHERE direction <> %s AND extension_id IS NOT DISTINCT FROM %s "
        "ORDER BY pattern", [not_direction, extension_pk]))


def _any_own_blocks(t: Tenancy, not_direction: str) -> bool:
    """Whether any extension has blocks of its own but those of ``not_direction`` (from
    the index's copy when there is one: then a tenant without any asks nothing more)."""
    if t.call_blocks is not None:
        return any(row.get("extension_id") is not None and row["direction"] != not_direction
                   for row in t.call_blocks)
    return True


def _calling_extension_pk(t: Tenancy, caller_username: str) -> int | None:
    """The extension of the device (SIP user) that placed the call, schema-qualified."""
    schema = connection.ops.quote_name(t.account.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT extension_id FROM {schema}.pbx_device WHERE username = %s", [caller_username])
        row = cursor.fetchone()
    return row[0] if row else None


def _e164(dialed: str, country: str) -> str:
    try:
        parsed = phonenumbers.parse(dialed, None if dialed.startswith("+") else country)
    except phonenumbers.NumberParseException:
        return dialed
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- inbound from a carrier -------------------------------------------------------------

# Privacy screening lets through a caller ID of ten or more digits; the dialplan screens
# the others (as the condition SCREENED_OUT) and the explainer says the same (PASSES).
SCREENING_PASSES = r"\+?\d{10,15}"


@dataclass
class InboundPlan:
    """A call to one of the tenant's numbers, in the order the rules apply: blocked
    callers, privacy screening, then the number's route (which may be a schedule). The
    first two depend on the caller, so the dialplan expresses them as conditions on the
    caller's number rather than deciding here: one cached answer serves every caller."""
    e164: str
    blocked_pattern: str  # a PCRE for caller_id_number; "" blocks nobody
    privacy_screening: bool
    caller_id_name: str
    hold_music: str
    plan: Plan


def plan_inbound(t: Tenancy, e164: str, *, route: str, privacy_screening: bool,
                 caller_id_name: str, moh_group_id: int | None) -> InboundPlan:
    from pbx.blocking import NOTHING, incoming_pattern

    blocks = _blocks(t, not_direction=BlockDirection.OUTGOING)
    pattern = incoming_pattern(blocks, country=t.account.country) if blocks else NOTHING
    plan = Plan()
    if route:
        destination = Destination.parse(route)
        extension = (_extension_by_pk(t, destination.pk)
                     if destination.kind == DestinationKind.EXTENSION else None)
        plan.ending(GoTo(destination, dial_as=extension.number if extension else ""))
    else:
        plan.then("no_route", f"{e164} is not routed.").ending(Hangup("UNALLOCATED_NUMBER"))
    return InboundPlan(e164, "" if pattern == NOTHING else pattern, privacy_screening,
                       caller_id_name, moh_stream(t.account, moh_group_id), plan)
