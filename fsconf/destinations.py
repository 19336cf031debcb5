"""Routing plans (pbx.routing) as FreeSWITCH dialplan applications. Every destination
kind is turned into applications here and nowhere else; going on to another destination
is a ``transfer`` to its ``transfer_number`` in the tenant's context, so the next lookup
plans it with the same code."""

from __future__ import annotations

import re

from django.conf import settings

from carriers.routing import CARRIER_ENDPOINT, CARRIER_LEG_VARIABLES, Caller
from esl.addresses import connect_address, parse_address
from fsconf.request import FetchRequest
from fsconf.voicemail import leave_message_actions
from pbx.routing import (
    AFTER_PREFIX,
    APP_FALLBACK_VARIABLE,
    App,
    CheckVoicemail,
    Final,
    GoTo,
    Hangup,
    OnNet,
    Outbound,
    Pickup,
    Queue,
    Ring,
    Voicemail,
)

Actions = list[tuple[str, str]]
# Set on the calling leg before any bridge that may reach a carrier (carriers.routing).
CARRIER_HEADER_POLICY: Actions = [("set", f"{name}={value}") for name, value in CARRIER_LEG_VARIABLES.items()]
# Characters that would let configured text (a caller-ID prefix, a name) expand channel
# variables or split an application's arguments.
_UNSAFE = re.compile(r"[${}\[\]|,\s]+")


def fs_text(value: str) -> str:
    return _UNSAFE.sub(" ", value).strip()


# A call sent on-net (pbx.routing.OnNet) enters the DID plan of the public context as a
# carrier's call would; this variable marks it, once per call.
ON_NET_GUARD = "switchboard_onnet"
ON_NET_CONTEXT = "public"
# Who the caller was in its own tenant (the directory's variables, its call limit): none
# of it may follow the call into the called tenant, where a user_name would make it one
# of that tenant's extensions (its permission, its voicemail) and the limit flag would
# skip that tenant's call limit.
CALLER_IDENTITY_VARIABLES = ("user_name", "toll_allow", "outbound_caller_id_number",
                             "outbound_caller_id_name", "emergency_caller_id_number",
                             "effective_caller_id_number", "effective_caller_id_name", "switchboard_limited")


def on_net_actions(final: OnNet) -> Actions:
    """The caller's number and name become the call's own (the public context's blocked
    callers and privacy screening read ``caller_id_number``), the caller's identity is
    dropped, and the call is looked up again as a call to ``final.number``."""
    name = fs_text(final.caller_id_name) or final.caller_id_number
    return [*CARRIER_HEADER_POLICY,  # the phone's own SIP headers stay behind here too
            ("set", f"{ON_NET_GUARD}=true"),
            ("set_profile_var", f"caller_id_number={final.caller_id_number}"),
            ("set_profile_var", f"caller_id_name={name}"),
            *(("unset", variable) for variable in CALLER_IDENTITY_VARIABLES),
            transfer(final.number, ON_NET_CONTEXT)]


def otherwise_for(final: Final, context: str) -> Actions | None:
    """What a call already sent on-net once does instead (the loop guard): the carrier.
    None for every other final (no guard)."""
    return actions_for(final.carrier, context) if isinstance(final, OnNet) else None


def transfer(number: str, context: str) -> tuple[str, str]:
    return ("transfer", f"{number} XML {context}")


def callcontrol_socket() -> str:
    """Where FreeSWITCH connects for call-control apps (``socket`` application):
    ``CALLCONTROL_SOCKET``, else where call control listens (``CALLCONTROL_LISTEN``)."""
    configured = getattr(settings, "CALLCONTROL_SOCKET", "")
    if configured:
        return configured
    return connect_address(*parse_address(settings.CALLCONTROL_LISTEN, "CALLCONTROL_LISTEN"))


def actions_for(final: Final, context: str) -> Actions:
    """The dialplan applications that carry out ``final``; ``context`` is the tenant's
    primary domain, which also names its voicemail domain."""
    if isinstance(final, Ring):
        return _ring(final, context)
    if isinstance(final, GoTo):
        played = [("answer", ""), ("playback", final.prompt)] if final.prompt else []
        return [*played, transfer(final.transfer_number, context)]
    if isinstance(final, Voicemail):
        return leave_message_actions(context, final.box, announcement_only=final.announcement_only,
                                     greeting=final.greeting, busy_greeting=final.busy_greeting,
                                     busy=final.busy)
    if isinstance(final, CheckVoicemail):
        box = f" {final.box}" if final.box else ""
        return [("answer", ""), ("voicemail", f"check default {context}{box}")]
    if isinstance(final, App):
        actions = [("set", f"domain_name={context}"), ("set", f"switchboard_app={final.name}"),
                   ("set", f"switchboard_ref={final.ref}")]
        if final.fallback is None:
            return [*actions, ("socket", f"{callcontrol_socket()} async full")]
        # FreeSWITCH goes on with the actions after ``socket`` when call control cannot be
        # reached, or lets go of the call without ending it (it does when its database
        # is away and switchboard_fallback is set: callcontrol.server).
        return [*actions, ("set", f"{APP_FALLBACK_VARIABLE}=true"),
                ("socket", f"{callcontrol_socket()} async full"), *actions_for(final.fallback, context)]
    if isinstance(final, Outbound):
        # Gateways are tried in order ("|"); when all fail the call ends with the last
        # carrier's cause, which the caller's phone shows.
        actions = [("set", "hangup_after_bridge=true"), ("set", f"outbound_number={final.number}"),
                   *CARRIER_HEADER_POLICY]
        if final.emergency:
            actions.append(("set", "emergency_call=true"))
        # Ours, on every leg of the failover ({...} before the first leg applies to all).
        ours = f"{{sip_h_Diversion={final.diversion}}}" if final.diversion else ""
        return [*actions, ("bridge", ours + final.bridge)]
    if isinstance(final, OnNet):
        return on_net_actions(final)
    if isinstance(final, Pickup):
        return [("pickup", final.key)]
    if isinstance(final, Queue):
        return _queue(final, context)
    assert isinstance(final, Hangup)
    return [("hangup", final.cause or "NORMAL_CLEARING")]


def _ring(ring: Ring, context: str) -> Actions:
    actions: Actions = [("set", "hangup_after_bridge=true"), ("set", "continue_on_fail=true")]
    if CARRIER_ENDPOINT in ring.dial:
        actions += CARRIER_HEADER_POLICY  # a ring group's outside member
    if ring.after is not None:
        actions.append(("set", f"call_timeout={ring.seconds}"))
    if ring.ringback:
        actions += [("set", f"ringback={ring.ringback}"), ("set", f"transfer_ringback={ring.ringback}")]
    prefix = fs_text(ring.caller_id_name_prefix)
    if prefix:
        actions.append(("set", f"effective_caller_id_name={prefix} ${{caller_id_name}}"))
    if ring.one_call_at_a_time:
        actions.append(("limit", ring.one_call_at_a_time))
    actions.append(("bridge", ring.dial))
    if ring.after is not None:
        # How ringing ended picks the forward: decided by the next lookup.
        actions.append(transfer(f"{AFTER_PREFIX}${{originate_disposition}}:{ring.after}", context))
    elif ring.fallback is not None:
        actions.append(transfer(ring.fallback.transfer_number, context))
    else:
        actions.append(("hangup", "NO_ANSWER"))
    return actions


def _queue(queue: Queue, context: str) -> Actions:
    """mod_callcenter's ``callcenter`` application, with its channel variables
    (mod_callcenter.c): ``cc_moh_override`` what the caller hears while waiting,
    ``cc_outbound_cid_name_prefix`` put before the caller's name on the agents' phones,
    ``cc_exit_keys`` the keys that leave the queue. The application returns when the
    caller's wait ends without an agent; the next action sends the call on. A caller
    an agent answered is bridged away from here and hangs up with the bridge.

    mod_callcenter originates the agent's leg itself, so the caller's exported
    variables (the call record's marks: account, DID, kind) do not reach it as they
    reach a bridged leg; ``cc_export_vars`` names the variables it copies onto that
    leg: the same list (``nolocal:`` names included, which it resolves likewise).
    Without it a DID's call had an agent leg without the DID (seen on the real switch,
    tests/freeswitch/test_cdr_more_shapes.py)."""
    actions: Actions = [("answer", ""), ("set", "hangup_after_bridge=true"),
                        ("set", "cc_export_vars=${export_vars}")]
    if queue.hold_music:
        # hold_music too: what the caller hears when the agent later puts them on hold.
        actions += [("set", f"cc_moh_override={queue.hold_music}"), ("set", f"hold_music={queue.hold_music}")]
    prefix = fs_text(queue.caller_id_name_prefix)
    if prefix:
        # mod_callcenter writes the prefix straight before the name: the space is ours.
        actions.append(("set", f"cc_outbound_cid_name_prefix={prefix} "))
    if queue.exit_key:
        actions.append(("set", f"cc_exit_keys={queue.exit_key}"))
    if queue.greeting:
        actions.append(("playback", queue.greeting))
    actions.append(("callcenter", queue.name))
    if queue.fallback is not None:
        actions.append(transfer(queue.fallback.transfer_number, context))
    else:
        actions.append(("hangup", "NO_ANSWER"))
    return actions


def caller_from(variables: FetchRequest) -> Caller | None:
    """The calling extension as the directory described it; None for a call without an
    authenticated extension (such as one transferred in from a carrier), which may not
    call out."""
    if not variables.get("variable_user_name"):
        return None
    return Caller(
        toll_allow=frozenset(filter(None, variables.get("variable_toll_allow", "").split(","))),
        caller_id_number=variables.get("variable_outbound_caller_id_number", ""),
        caller_id_name=variables.get("variable_outbound_caller_id_name", ""),
        emergency_caller_id_number=variables.get("variable_emergency_caller_id_number", ""),
    )


def call_record_kind(final: Final) -> str:
    """What a call record calls the destination ``final`` reaches (switchboard_dest_kind,
    docs/cdr.md); "" for a transfer, whose next lookup names it."""
    if isinstance(final, Ring):
        # Only an extension's ring has an ``after`` (its own forwards).
        return "extension" if final.after is not None else "ring_group"
    if isinstance(final, App):
        return final.name
    if isinstance(final, GoTo):
        return ""
    return {Voicemail: "voicemail", CheckVoicemail: "check_voicemail", Outbound: "outbound",
            Pickup: "pickup", Queue: "queue", Hangup: "hangup"}.get(type(final), "")
