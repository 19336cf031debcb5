"""The route explainer: the ordered decisions a call would go through, as data.

It walks the same plans the dialplan renders (``pbx.routing``), following each
transfer the dialplan would make and, where the outcome depends on the called party
(busy, no answer, not registered), every branch. So the explanation and what FreeSWITCH
executes come from one piece of code; ``tests/fsconf/test_explain.py`` replays the
dialplan hop by hop to hold them together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from carriers.routing import Refusal
from pbx.destinations import describe
from pbx.models import Destination, DestinationKind, Device, Extension
from pbx.permissions import caller_of
from pbx.routing import (
    MAX_HOPS,
    SCREENING_PASSES,
    App,
    CheckVoicemail,
    Final,
    GoTo,
    Hangup,
    OnNet,
    Outbound,
    Outcome,
    Pickup,
    Plan,
    Queue,
    Ring,
    Tenancy,
    Voicemail,
    after_ringing,
    plan_destination,
    plan_dialed,
    plan_inbound,
)
from tenants.models import Account, PhoneNumber
from tenants.validators import normalize_e164

if TYPE_CHECKING:
    from pbx.followme import Leg

PASSES_SCREENING = re.compile(f"^{SCREENING_PASSES}$")


@dataclass(frozen=True)
class Decision:
    depth: int  # 0 for the call's own path, deeper for branches ("if busy: ...")
    rule: str
    text: str
    final: Final | None = None  # what the dialplan does here, for the last decision of a lookup
    detail: tuple[str, ...] = ()  # machine-readable particulars (a follow-me step's legs)

    def __str__(self) -> str:
        return "  " * self.depth + self.text


def tenancy_of(account: Account) -> Tenancy:
    """As xml_curl resolves it: the primary domain, and the nearest account (itself or
    above) with trunks of its own."""
    chain = [account, *reversed(list(Account.objects.get_ancestors(account)))]
    owner = next((a for a in chain if a.trunk_source == Account.TrunkSource.LOCAL
                  or a.kind == Account.Kind.MASTER), None)
    return Tenancy(account, account.primary_domain_name, owner.pk if owner else None)


def explain_route(account: Account, caller: str, dialed: str, at: datetime | None = None) -> list[Decision]:
    """What happens when ``caller`` dials ``dialed`` at ``at`` (default now).

    ``dialed`` that is one of the account's phone numbers is a call from outside, and
    ``caller`` is then the outside caller's number (empty: anonymous). Otherwise it is a
    call from inside, and ``caller`` is the calling extension's number."""
    at = at or timezone.now()
    t = tenancy_of(account)
    out: list[Decision] = []
    number = _own_number(account, dialed)
    if number is not None:
        _explain_inbound(t, number, caller, at, out)
        return out
    with schema_context(account.schema_name):
        extension = Extension.objects.filter(number=caller).first()
        username = (Device.objects.filter(extension=extension).values_list("username", flat=True).first()
                    if extension else "")
    if extension is None:
        out.append(Decision(0, "caller", f"{caller} is not an extension of {account.name}; "
                                         "the call is explained as one without a calling extension."))
        plan = plan_dialed(t, dialed, caller=None, caller_username="", at=at)
    else:
        out.append(Decision(0, "caller", f"Extension {extension.number} {extension.name} dials {dialed}."))
        plan = plan_dialed(t, dialed, caller=caller_of(account, extension), caller_username=username or "",
                           at=at)
    _follow(t, plan, at, 0, out, hops=0)
    return out


def _own_number(account: Account, dialed: str) -> PhoneNumber | None:
    try:
        e164 = normalize_e164(dialed)
    except ValidationError:
        return None
    if not e164 or len(dialed.lstrip("+")) < 7:
        return None
    return PhoneNumber.objects.filter(account=account, e164=e164).first()


def _explain_inbound(t: Tenancy, number: PhoneNumber, caller: str, at: datetime, out: list[Decision]) -> None:
    from pbx.blocking import blocked
    from pbx.models import BlockDirection, CallBlock

    out.append(Decision(0, "inbound", f"A call from {caller or 'an anonymous caller'} to {number.e164}."))
    inbound = plan_inbound(t, number.e164, route=number.route, privacy_screening=number.privacy_screening,
                           caller_id_name=number.caller_id_name, moh_group_id=number.moh_group_id)
    with schema_context(t.account.schema_name):
        blocks = list(CallBlock.objects.filter(extension=None).exclude(direction=BlockDirection.OUTGOING))
    block = blocked(blocks, caller, "incoming", country=t.account.country) if blocks else None
    if block is not None:
        why = block.comment or ("anonymous callers" if block.anonymous else block.pattern)
        out.append(Decision(0, "blocked", f"The caller is blocked ({why}): the call is rejected.",
                            Hangup("CALL_REJECTED")))
        return
    out.append(Decision(0, "not_blocked", "The caller is not blocked."))
    if inbound.privacy_screening:
        if PASSES_SCREENING.match(caller or ""):
            out.append(Decision(0, "screening", "Privacy screening: the caller ID has enough digits."))
        else:
            text = "Privacy screening: the caller must key in a ten-digit number, then the call goes on."
            out.append(Decision(0, "screening", text, App("privacy", number.e164)))
    _follow(t, inbound.plan, at, 0, out, hops=0, caller=caller)


def _follow(t: Tenancy, plan: Plan, at: datetime, depth: int, out: list[Decision], *, hops: int,
            caller: str | None = None) -> None:
    """``caller``: the outside caller's number (a call to one of the account's numbers;
    "" anonymous), whom an extension's own blocks may refuse; None for a call from one
    of the account's phones, which they do not."""
    if caller is not None and plan.caller_blocks:
        from pbx.blocking import blocked

        block = blocked(plan.caller_blocks, caller, "incoming", country=t.account.country)
        if block is not None:
            why = block.comment or ("anonymous callers" if block.anonymous else block.pattern)
            out.append(Decision(depth, "blocked", f"The extension blocks this caller ({why}): the call is "
                                                  "rejected.", Hangup("CALL_REJECTED")))
            return
    for step in plan.steps:
        out.append(Decision(depth, step.rule, step.text))
        if step.rule == Refusal.NO_TRUNK:
            out.append(Decision(depth, "trunk_source", _whose_trunks(t)))
    final = plan.final
    if hops > MAX_HOPS:
        out.append(Decision(depth, "loop", "Too many forwards: the call ends.", Hangup("NORMAL_CLEARING")))
        return
    if isinstance(final, GoTo):
        with schema_context(t.account.schema_name):
            where = describe(str(final.destination))
        played = " after an announcement" if final.prompt else ""
        out.append(Decision(depth, "goto", f"Goes to {where}{played}.", final))
        _follow(t, plan_destination(t, final.destination, at=at), at, depth, out, hops=hops + 1,
                caller=caller)
    elif isinstance(final, App) and final.name == "follow_me" and final.ref.isdigit():
        out.append(Decision(depth, "app", _sentence(t, final), final))
        _explain_follow_me(t, int(final.ref), at, depth + 1, out, hops, caller)
    elif isinstance(final, App) and final.name == "ivr" and final.ref.isdigit():
        out.append(Decision(depth, "app", _sentence(t, final), final))
        _explain_ivr(t, int(final.ref), depth + 1, out)
    elif isinstance(final, App) and final.name == "forwarding":
        out.append(Decision(depth, "app", _sentence(t, final), final))
        _explain_feature_code(t, final.ref, depth + 1, out)
    elif isinstance(final, Queue):
        out.append(Decision(depth, "queue", f"The caller waits in {final.description} for an agent.", final))
        _explain_queue(t, final.pk, depth + 1, out)
        if final.fallback is None:
            out.append(Decision(depth + 1, "if_no_answer",
                                "If the wait ends without an agent: the call ends.", Hangup("NO_ANSWER")))
        else:
            out.append(Decision(depth + 1, "if_no_answer", "If the wait ends without an agent:"))
            _follow(t, Plan().ending(GoTo(final.fallback)), at, depth + 2, out, hops=hops + 1, caller=caller)
    elif isinstance(final, Ring):
        waiting = " (call waiting off: busy while on a call)" if final.one_call_at_a_time else ""
        out.append(Decision(depth, "ring", f"Rings {final.description} for {final.seconds} s{waiting}.",
                            final))
        _branches(t, final, at, depth, out, hops, caller)
    else:
        out.append(Decision(depth, _rule_of(final), _sentence(t, final), final))


def _whose_trunks(t: Tenancy) -> str:
    """Whose trunks the account calls out on (its trunk source), for a call that found none."""
    account = t.account
    owner = Account.objects.filter(pk=t.trunk_owner_id).first() if t.trunk_owner_id else None
    if owner is None:
        return f"No account at or above {account.name} has trunks of its own."
    if owner.pk == account.pk:
        return f"{account.name} calls out on its own trunks (trunk source Local), and none is enabled."
    if owner.is_master:
        return (f"{account.name} calls out on the platform's trunks (those of {owner.name}), "
                "and none is enabled.")
    return (f"{account.name} calls out on the trunks of {owner.name} (the nearest account above it "
            "with trunk source Local), and none is enabled.")


def _explain_follow_me(t: Tenancy, pk: int, at: datetime, depth: int, out: list[Decision],
                       hops: int, caller: str | None = None) -> None:
    """As the follow-me app runs it: the same plan (pbx.followme)."""
    from pbx.followme import plan_follow_me

    plan = plan_follow_me(t, pk, at=at)
    if plan is None:
        out.append(Decision(depth, "missing", "The follow-me no longer exists.",
                            Hangup("UNALLOCATED_NUMBER")))
        return
    if not plan.enabled or not plan.steps:
        out.append(Decision(depth, "follow_me_off", "Follow-me has nothing to ring."))
    elif plan.closed:
        out.append(Decision(depth, "follow_me_closed", "Outside its active hours: the steps are skipped."))
    else:
        if plan.record_name:
            out.append(Decision(depth, "record_name",
                                "The caller records their name; whoever answers hears it."))
        for number, step in enumerate(plan.steps, start=1):
            if number > 1 and plan.offer_voicemail and plan.voicemail:
                out.append(Decision(depth, "offer_voicemail", "The caller may press 1 to leave a message."))
            # An extension rings as one leg per device and domain: named once.
            who = ", ".join(dict.fromkeys(_leg_name(leg) for leg in step.legs))
            confirm = (" (outside numbers must press 1 to take the call)"
                       if step.confirm and any(leg.external for leg in step.legs) else "")
            out.append(Decision(depth, "follow_me_step",
                                f"Step {number} rings {who} for {step.ring_seconds} s{confirm}.",
                                detail=tuple(leg.endpoint for leg in step.legs)))
    then = plan.fallback or plan.voicemail
    if not then:
        out.append(Decision(depth, "if_no_answer", "If nobody answers: the call ends.", Hangup("NO_ANSWER")))
        return
    out.append(Decision(depth, "if_no_answer", "If nobody answers:"))
    _follow(t, Plan().ending(GoTo(Destination.parse(then))), at, depth + 1, out, hops=hops + 1, caller=caller)


def _leg_name(leg: Leg) -> str:
    if leg.variables.get("dialed_user"):  # an extension's phone (pbx.ringing)
        return "extension " + leg.variables["dialed_user"]
    if leg.endpoint.startswith("user/"):
        return "extension " + leg.endpoint[len("user/"):].split("@")[0]
    return leg.endpoint.rsplit("/", 1)[-1]


def _explain_ivr(t: Tenancy, pk: int, depth: int, out: list[Decision]) -> None:
    """The menu's keys and its exit, as the IVR app reads them."""
    from pbx.models import Ivr

    with schema_context(t.account.schema_name):
        ivr = Ivr.objects.filter(pk=pk).first()
        if ivr is None:
            return
        for option in ivr.options.all():
            out.append(Decision(depth, "ivr_key", f"Key {option.key}: {describe(option.destination)}."))
        if ivr.dial_by_extension:
            out.append(Decision(depth, "ivr_dial_by_extension", "Callers may dial an extension number."))
        exit_to = describe(ivr.exit_destination) if ivr.exit_destination else "goodbye, the call ends"
        out.append(Decision(depth, "ivr_exit",
                            f"After {ivr.max_attempts} tries without a valid key: {exit_to}."))


def _explain_queue(t: Tenancy, pk: int, depth: int, out: list[Decision]) -> None:
    """Who answers a queue's callers and how long they wait, as callcenter.conf says."""
    from pbx.models import CallQueue, QueueStrategy

    with schema_context(t.account.schema_name):
        queue = CallQueue.objects.filter(pk=pk).first()
        if queue is None:
            return
        members = list(queue.agents.select_related("extension"))
    out.append(Decision(depth, "queue_strategy",
                        f"Strategy: {QueueStrategy(queue.strategy).label.lower()} ({queue.strategy})."))
    for member in members:
        extension = member.extension
        if member.login_required:
            how = "logs in with *62, " + ("logged in" if member.logged_in else "logged out")
        else:
            how = "always in"
        paused = ", paused (*95)" if member.paused else ""
        out.append(Decision(depth, "queue_agent",
                            f"Agent: extension {extension.number} {extension.name}, level {member.level} "
                            f"({how}{paused}); rings {queue.agent_ring_seconds} s.",
                            detail=(extension.number, member.status)))
    if not members:
        out.append(Decision(depth, "queue_no_agents", "The queue has no agents."))

    def limit(seconds: int) -> str:
        return f"{seconds} s" if seconds else "no limit"

    out.append(Decision(depth, "queue_wait",
                        f"Callers wait at most: {limit(queue.max_wait_seconds)}; while no agent is "
                        f"logged in: {limit(queue.max_wait_no_agent_seconds)}."))
    if queue.exit_key:
        out.append(Decision(depth, "queue_exit_key", f"Pressing {queue.exit_key} leaves the queue."))


_WHEN = {"all": "all calls", "busy": "calls while busy", "no_answer": "unanswered calls"}


def _explain_feature_code(t: Tenancy, ref: str, depth: int, out: list[Decision]) -> None:
    """What a forwarding or DND code will change, checked as the app's action checks
    it (pbx.actions.featurecodes.check_feature_code), or why it will be refused."""
    from pbx.actions.featurecodes import FORWARDS, check_feature_code, describe_target

    action, _, rest = ref.partition(":")
    pk, _, number = rest.partition(":")
    with schema_context(t.account.schema_name):
        extension = Extension.objects.filter(pk=pk).first() if pk.isdigit() else None
    if extension is None:
        out.append(Decision(depth, "missing", "The extension no longer exists: nothing changes."))
        return
    who = f"Extension {extension.number}"
    if action in FORWARDS and not number:
        out.append(Decision(depth, "feature_asks",
                            f"The caller is asked for the number to forward {_WHEN[action]} to (ended by #); "
                            "a number that is refused changes nothing."))
        return
    try:
        fields = check_feature_code(t.account, extension, action, number)
    except ValidationError as exc:
        out.append(Decision(depth, "feature_refused", f"Refused, nothing changes: {' '.join(exc.messages)}"))
        return
    if action in FORWARDS:
        target = describe_target(t.account, fields[f"forward_{action}_to"])
        text = f"{who} now forwards {_WHEN[action]} to {target}."
    elif action == "dnd_on":
        text = (f"{who} goes on do not disturb: its callers go to the busy forward if it is on, "
                "else to voicemail.")
    elif action == "dnd_off":
        text = f"{who} leaves do not disturb."
    else:
        name = action.removesuffix("_off")
        kept = getattr(extension, f"forward_{name}_to")
        was = "" if getattr(extension, f"forward_{name}") else " (it was off)"
        keeps = f"; {describe_target(t.account, kept)} is kept for later" if kept else ""
        text = f"{who} stops forwarding {_WHEN[name]}{was}{keeps}."
    out.append(Decision(depth, "feature_change", text + " The caller hears a confirmation.",
                        detail=tuple(f"{k}={v}" for k, v in fields.items())))


def _branches(t: Tenancy, ring: Ring, at: datetime, depth: int, out: list[Decision], hops: int,
              caller: str | None = None) -> None:
    if ring.after is not None and ring.after.kind == DestinationKind.EXTENSION:
        with schema_context(t.account.schema_name):
            extension = _extension_for_branches(t, ring.after)
        for outcome in Outcome:
            out.append(Decision(depth + 1, f"if_{outcome.value}", f"If {_IF[outcome]}:"))
            _follow(t, after_ringing(t, extension, outcome, Plan()), at, depth + 2, out, hops=hops + 1,
                    caller=caller)
    elif ring.fallback is not None:
        out.append(Decision(depth + 1, "if_no_answer", "If nobody answers:"))
        _follow(t, Plan().ending(GoTo(ring.fallback)), at, depth + 2, out, hops=hops + 1, caller=caller)
    else:
        out.append(Decision(depth + 1, "if_no_answer", "If nobody answers: the call ends.",
                            Hangup("NO_ANSWER")))


def _extension_for_branches(t: Tenancy, destination: Destination) -> Extension:
    from pbx.routing import _extension_by_pk

    extension = _extension_by_pk(t, destination.pk)
    assert extension is not None  # it was just planned
    return extension


_AGENT_ACTIONS = {"login": "log in", "logout": "log out", "pause": "pause", "unpause": "resume"}
_IF = {Outcome.BUSY: "busy", Outcome.NO_ANSWER: "nobody answers",
       Outcome.UNREGISTERED: "no phone is registered"}


def _rule_of(final: Final) -> str:
    return {Voicemail: "voicemail", CheckVoicemail: "check_voicemail", App: "app",
            Outbound: "outbound", OnNet: "on_net", Hangup: "hangup", Pickup: "pickup"}[type(final)]


def _sentence(t: Tenancy, final: Final) -> str:
    if isinstance(final, Voicemail):
        if final.announcement_only:
            return f"Voicemail box {final.box} plays its announcement; no message is taken."
        return f"Voicemail box {final.box} takes a message."
    if isinstance(final, CheckVoicemail):
        return f"Voicemail box {final.box} is checked." if final.box else "The caller is asked for a box."
    if isinstance(final, Outbound):
        kind = "an emergency call" if final.emergency else "out"
        return f"Calls {kind} to {final.number} ({final.bridge.count('|') + 1} gateway(s) in order)."
    if isinstance(final, OnNet):
        legs = final.carrier.bridge.count("|") + 1
        return (f"Goes on-net to {final.number}, presenting {final.caller_id_number}: no carrier. A call "
                f"already sent on-net once goes out to it instead ({legs} gateway(s) in order).")
    if isinstance(final, Hangup):
        return f"The call ends ({final.cause})."
    if isinstance(final, Pickup):
        return "The caller answers the ringing call."
    assert isinstance(final, App)
    kind = {"ivr": "ivr", "conference": "conference", "follow_me": None, "directory": "directory",
            "conference_hub": "conference_hub"}.get(final.name)
    if final.name == "follow_me":
        return "Follow-me rings its steps in turn (call-control app)."
    if final.name == "queue_agent":
        action = final.ref.partition(":")[0]
        return f"The caller's queue agents {_AGENT_ACTIONS.get(action, action)} (call-control app)."
    if final.name == "forwarding":
        return "The call-control app makes the change and confirms it, or plays an error if it is refused."
    if kind and final.ref:
        with schema_context(t.account.schema_name):
            return f"{describe(f'{kind}:{final.ref}')} answers (call-control app)."
    return f"{DestinationKind(kind).label if kind else final.name} answers (call-control app)."
