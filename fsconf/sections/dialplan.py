"""section=dialplan: each tenant's context is named after its primary SIP domain (the
directory sets ``user_context`` to it), so the context identifies the tenant. Carrier
calls arrive in the ``public`` context and are matched by the dialed DID."""

from __future__ import annotations

import logging
import re
from functools import partial

from django.core.exceptions import ValidationError
from django.utils import timezone
from lxml import etree

from fsconf.cache import note_valid_until
from fsconf.destinations import (
    ON_NET_GUARD,
    actions_for,
    call_record_kind,
    callcontrol_socket,
    caller_from,
    fs_text,
    otherwise_for,
    transfer,
)
from fsconf.directory_index import extension_facts
from fsconf.documents import NOT_FOUND, new_document, serialize
from fsconf.request import FetchRequest
from fsconf.sections.directory import from_index
from fsconf.tenancy import Tenant, tenant_for_domain, tenant_for_number
from pbx.models.destinations import TRANSFER_PREFIX
from pbx.routing import (
    SCREENING_PASSES,
    TRANSFER_PROOF_VARIABLE,
    GoTo,
    InboundPlan,
    Tenancy,
    Transfer,
    plan_dialed,
    plan_inbound,
    proven_transfer,
    transfer_proof,
)
from tenants.models import Account
from tenants.validators import normalize_e164

PUBLIC_CONTEXT = "public"
# Callers privacy screening stops (pbx.routing.SCREENING_PASSES lets the others through).
SCREENED_OUT = f"^(?!{SCREENING_PASSES}$)"


CALLER_VARIABLES = ("variable_user_name", "variable_toll_allow", "variable_outbound_caller_id_number",
                    "variable_outbound_caller_id_name", "variable_emergency_caller_id_number")


log = logging.getLogger(__name__)


def transfer_of(fetch: FetchRequest, context: str, dialed: str) -> Transfer | None:
    """The transfer of ours that brought the call to ``dialed`` (pbx.routing's proof in
    the channel variable, which no SIP message can set), or None."""
    if not dialed.startswith(TRANSFER_PREFIX):
        return None
    return proven_transfer(context, dialed, fetch.get(f"variable_{TRANSFER_PROOF_VARIABLE}"))


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    """The context, the number, what the answer reads of the caller and, for a ``~``
    number, whether (and for whom) one of our transfers brought the call there."""
    context = fetch.get("Hunt-Context") or fetch.get("Caller-Context")
    dialed = fetch.get("Hunt-Destination-Number") or fetch.get("Caller-Destination-Number")
    identity = ("dialplan", context, dialed, *(fetch.get(name) for name in CALLER_VARIABLES))
    if not dialed.startswith(TRANSFER_PREFIX):
        return identity
    transfer = transfer_of(fetch, context, dialed)
    return (*identity, "transfer", "none" if transfer is None else str(transfer.on_behalf or ""))


def tenancy(tenant: Tenant) -> Tenancy:
    """The tenant with its routing facts from the public index: a cold dialplan fetch
    then reads no table of the tenant's schema (each first read of one on a connection
    costs more than the query; docs/benchmarks.md)."""
    if not from_index():
        return Tenancy(tenant.account, tenant.primary_domain, tenant.trunk_owner_id, domains=tenant.domains)
    return Tenancy(tenant.account, tenant.primary_domain, tenant.trunk_owner_id,
                   extensions=partial(extension_facts, tenant.account.pk),
                   call_blocks=tenant.call_blocks, domains=tenant.domains)


def answer(fetch: FetchRequest) -> bytes:
    context = fetch.get("Hunt-Context") or fetch.get("Caller-Context")
    dialed = fetch.get("Hunt-Destination-Number") or fetch.get("Caller-Destination-Number")
    if not context or not dialed:
        return NOT_FOUND
    if context == PUBLIC_CONTEXT:
        return _inbound(dialed)
    tenant = tenant_for_domain(context)
    if tenant is None:
        return NOT_FOUND
    if not tenant.serving:
        return _context_document(context, dialed, [("hangup", "CALL_REJECTED")], account=None)
    transfer = transfer_of(fetch, context, dialed)
    if dialed.startswith(TRANSFER_PREFIX) and transfer is None:
        # A phone dialing (or REFERring a call to) an internal transfer number.
        log.warning("dialplan: %s in %s without our transfer (caller %r, channel %r): refused",
                    dialed[:100], context[:100], fetch.get("variable_user_name")[:64],
                    fetch.get("Channel-Name")[:200])
    plan = plan_dialed(tenancy(tenant), dialed, caller=caller_from(fetch),
                       caller_username=fetch.get("variable_user_name"), at=timezone.now(),
                       transfer=transfer)
    note_valid_until(plan.valid_until)
    return _context_document(context, dialed, actions_for(plan.final, tenant.primary_domain),
                             tenant.account, kind=call_record_kind(plan.final),
                             otherwise=otherwise_for(plan.final, tenant.primary_domain),
                             blocked_callers=plan.blocked_callers)


def _inbound(dialed: str) -> bytes:
    """A carrier call: the dialed DID names the tenant (one indexed lookup)."""
    try:
        e164 = normalize_e164(dialed)
    except ValidationError:
        e164 = ""
    found = tenant_for_number(e164) if e164 else None
    if found is None:
        return _context_document(PUBLIC_CONTEXT, dialed, [("hangup", "UNALLOCATED_NUMBER")], None)
    number, tenant = found
    if not tenant.serving:
        return _context_document(PUBLIC_CONTEXT, dialed, [("hangup", "CALL_REJECTED")], None)
    inbound = plan_inbound(tenancy(tenant), e164, route=number.route,
                           privacy_screening=number.privacy_screening,
                           caller_id_name=number.caller_id_name, moh_group_id=number.moh_group_id)
    return _inbound_document(dialed, tenant.primary_domain, inbound, account=tenant.account, did=e164)


def _inbound_document(dialed: str, domain: str, inbound: InboundPlan, *, account: Account,
                      did: str) -> bytes:
    """Blocked callers, then privacy screening, then the route: the first two are
    conditions on the caller's number, so this one answer serves every caller."""
    root, section = new_document("dialplan")
    ctx = etree.SubElement(section, "context", name=PUBLIC_CONTEXT)
    _call_record_marks(ctx, account=account, did=did, kind=call_record_kind(inbound.plan.final))
    if inbound.blocked_pattern:
        blocked = etree.SubElement(etree.SubElement(ctx, "extension", name="blocked-callers"), "condition",
                                   field="caller_id_number", expression=inbound.blocked_pattern)
        _actions(blocked, [("hangup", "CALL_REJECTED")])
    number_condition = {"field": "destination_number", "expression": f"^{re.escape(dialed)}$"}
    if inbound.privacy_screening:
        screening = etree.SubElement(ctx, "extension", name="privacy-screening")
        etree.SubElement(screening, "condition", number_condition)
        etree.SubElement(screening, "condition", field="${switchboard_screened}", expression="^$")
        condition = etree.SubElement(screening, "condition", field="caller_id_number",
                                     expression=SCREENED_OUT)
        _actions(condition, [("set", f"domain_name={domain}"), ("set", "switchboard_app=privacy"),
                             ("set", f"switchboard_ref={dialed}"),
                             ("socket", f"{callcontrol_socket()} async full")])
    final = inbound.plan.final
    if isinstance(final, GoTo):
        # Every caller that passed the conditions above is transferred there.
        _transfer_proof(ctx, domain, [transfer(final.transfer_number, domain)])
    route = etree.SubElement(etree.SubElement(ctx, "extension", name=f"dialed-{dialed}"), "condition",
                             number_condition)
    if not isinstance(final, GoTo):
        _actions(route, actions_for(final, domain))
        return serialize(root)
    actions = [("set", f"domain_name={domain}")]
    if inbound.caller_id_name:
        actions.append(("set", f"effective_caller_id_name={fs_text(inbound.caller_id_name)} "
                               "${caller_id_name}"))
    if inbound.hold_music:
        actions.append(("set", f"hold_music={inbound.hold_music}"))
    # The route is planned inside the tenant's context, under its call limit.
    actions.append(transfer(final.transfer_number, domain))
    _actions(route, actions)
    return serialize(root)


def _transfer_proof(parent: etree._Element, context: str, actions: list[tuple[str, str]]) -> None:
    """Before the actions of a document that transfers to a ``~`` number, an extension
    that sets the proof the next lookup checks (pbx.routing.transfer_proof). First in
    the document, like the call limit, so the number's own actions read as before; one
    document transfers to at most one ``~`` destination (any disposition of ``~after:``
    is the same proof)."""
    proofs = {transfer_proof(*target) for application, data in actions
              for target in [_transfer_target(application, data, context)] if target}
    if not proofs:
        return
    if len(proofs) > 1:
        raise ValueError(f"one document, several transfer targets: {actions}")
    holder = etree.SubElement(parent, "extension", name="switchboard-transfer", attrib={"continue": "true"})
    _actions(etree.SubElement(holder, "condition"), [("set", f"{TRANSFER_PROOF_VARIABLE}={proofs.pop()}")])


def _transfer_target(application: str, data: str, context: str) -> tuple[str, str] | None:
    """(context, ``~`` number) a transfer action (``<number> XML <context>``) or a limit
    that transfers when exceeded (``hash <realm> <id> <max> <number>``) goes to."""
    words = data.split(" ")
    if application == "transfer":
        number, context = words[0], (words[2] if len(words) > 2 else context)
    elif application == "limit" and len(words) > 4:
        number = words[4]
    else:
        return None
    return (context, number) if number.startswith(TRANSFER_PREFIX) else None


def _call_record_marks(context: etree._Element, *, account: Account, kind: str = "", did: str = "") -> None:
    """First in the document, whatever the call then does (a blocked caller, a call over
    the limit included): what each leg's call record is attributed by (cdr.ingest). The
    account's id (not its domain, which can change), the DID the call came in on, and
    the kind of destination this lookup sends it to (a later lookup, after a transfer,
    overwrites it). ``export`` sets them on this leg and on every leg it bridges to,
    which FreeSWITCH's CDR of that leg then carries too."""
    marks = [("export", f"switchboard_account={account.pk}")]
    if did:
        marks.append(("export", f"switchboard_did={did}"))
    if kind:
        marks.append(("export", f"switchboard_dest_kind={kind}"))
    holder = etree.SubElement(context, "extension", name="switchboard-call-record",
                              attrib={"continue": "true"})
    if not did:
        _actions(etree.SubElement(holder, "condition"), marks)
        _call_mark(holder)
        return
    # A DID's document also takes our own tenants' calls sent on-net
    # (fsconf.destinations.on_net_actions): their leg already names the caller's account,
    # which it keeps; the called account goes only to the legs it bridges to (nolocal:).
    condition = etree.SubElement(holder, "condition", field="${switchboard_account}", expression="^$")
    _actions(condition, marks)
    for application, data in marks:
        etree.SubElement(condition, "anti-action", application=application, data=f"nolocal:{data}")
    _call_mark(holder)


def _call_mark(holder: etree._Element) -> None:
    """The call's first leg, named once on it (``switchboard_call``, its own uuid) and
    exported to every leg it bridges to: a leg whose ``originator`` is not that first leg
    -- a phone rung by a leg we originated, once a transfer by REFER sent that leg
    through the dialplan -- still names the call it belongs to (cdr.ingest; seen on the
    real switch, tests/freeswitch/test_cdr_more_shapes.py). ``break="never"``: a leg that
    has it already goes on with the document. After the marks' condition: where that
    condition fails (an on-net caller's leg) the leg has its own from its first lookup."""
    condition = etree.SubElement(holder, "condition", field="${switchboard_call}", expression="^$",
                                 attrib={"break": "never"})
    _actions(condition, [("export", "switchboard_call=${uuid}")])


def _actions(condition: etree._Element, actions: list[tuple[str, str]], *, tag: str = "action") -> None:
    for application, data in actions:
        attrs = {"application": application}
        if data:
            attrs["data"] = data
        etree.SubElement(condition, tag, attrs)


def _context_document(
    context: str, dialed: str, actions: list[tuple[str, str]], account: Account | None, *, kind: str = "",
    otherwise: list[tuple[str, str]] | None = None, blocked_callers: str = "",
) -> bytes:
    """``otherwise``: an on-net call's carrier route (fsconf.destinations.otherwise_for),
    taken instead of ``actions`` when the call was already sent on-net once.
    ``blocked_callers``: the called extension's own blocks (pbx.routing.Plan), which
    refuse a call from outside whose caller's number matches, as the account's blocks
    refuse it in the public context."""
    root, section = new_document("dialplan")
    ctx = etree.SubElement(section, "context", name=context)
    if account is not None:
        _call_record_marks(ctx, account=account, kind=kind)
    if blocked_callers:
        # Before the call limit: a refused call takes no place under it. Calls from the
        # tenant's own phones (an authenticated user_name) are not blocked here, as the
        # account's blocks apply to calls from outside only.
        blocked = etree.SubElement(ctx, "extension", name="blocked-callers")
        etree.SubElement(blocked, "condition", field="${user_name}", expression="^$")
        _actions(etree.SubElement(blocked, "condition", field="caller_id_number", expression=blocked_callers),
                 [("hangup", "CALL_REJECTED")])
    if account is not None:
        # The account's concurrent-call limit, checked before anything else runs, once
        # per call however many transfers the call goes through.
        limit = etree.SubElement(ctx, "extension", name="account-call-limit", attrib={"continue": "true"})
        condition = etree.SubElement(limit, "condition", field="${switchboard_limited}", expression="^$")
        _actions(condition, [
            ("limit", f"hash {account.schema_name} calls {account.max_concurrent_calls} "
                      "!NORMAL_TEMPORARY_FAILURE"),
            ("set", "switchboard_limited=true"),
        ])
    _transfer_proof(ctx, context, actions)
    extension = etree.SubElement(ctx, "extension", name=f"dialed-{dialed}")
    condition = etree.SubElement(extension, "condition", field="destination_number",
                                 expression=f"^{re.escape(dialed)}$")
    if otherwise is not None:
        # The loop guard: a second condition, its actions when the call has not been
        # sent on-net yet, its anti-actions (the carrier) when it has.
        condition = etree.SubElement(extension, "condition", field=f"${{{ON_NET_GUARD}}}", expression="^$")
        _actions(condition, otherwise, tag="anti-action")
    _actions(condition, actions)
    return serialize(root)
