"""section=dialplan: each tenant's context is named after its primary SIP domain (the
directory sets ``user_context`` to it), so the context identifies the tenant. Carrier
calls arrive in the ``public`` context and are matched by the dialed DID."""

from __future__ import annotations

import re
from functools import partial

from django.core.exceptions import ValidationError
from django.utils import timezone
from lxml import etree

from fsconf.cache import note_valid_until
from fsconf.destinations import actions_for, callcontrol_socket, caller_from, fs_text, transfer
from fsconf.directory_index import extension_facts
from fsconf.documents import NOT_FOUND, new_document, serialize
from fsconf.request import FetchRequest
from fsconf.sections.directory import from_index
from fsconf.tenancy import Tenant, tenant_for_domain, tenant_for_number
from pbx.routing import SCREENING_PASSES, GoTo, InboundPlan, Tenancy, plan_dialed, plan_inbound
from tenants.models import Account
from tenants.validators import normalize_e164

PUBLIC_CONTEXT = "public"
# Callers privacy screening stops (pbx.routing.SCREENING_PASSES lets the others through).
SCREENED_OUT = f"^(?!{SCREENING_PASSES}$)"


CALLER_VARIABLES = ("variable_user_name", "variable_toll_allow", "variable_outbound_caller_id_number",
                    "variable_outbound_caller_id_name", "variable_emergency_caller_id_number")


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    """The context, the number and what the answer reads of the caller."""
    return ("dialplan", fetch.get("Hunt-Context") or fetch.get("Caller-Context"),
            fetch.get("Hunt-Destination-Number") or fetch.get("Caller-Destination-Number"),
            *(fetch.get(name) for name in CALLER_VARIABLES))


def tenancy(tenant: Tenant) -> Tenancy:
    """The tenant with its routing facts from the public index: a cold dialplan fetch
    then reads no table of the tenant's schema (each first read of one on a connection
    costs more than the query; docs/benchmarks.md)."""
    if not from_index():
        return Tenancy(tenant.account, tenant.primary_domain, tenant.trunk_owner_id)
    return Tenancy(tenant.account, tenant.primary_domain, tenant.trunk_owner_id,
                   extensions=partial(extension_facts, tenant.account.pk),
                   call_blocks=tenant.call_blocks)


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
    plan = plan_dialed(tenancy(tenant), dialed, caller=caller_from(fetch),
                       caller_username=fetch.get("variable_user_name"), at=timezone.now())
    note_valid_until(plan.valid_until)
    return _context_document(context, dialed, actions_for(plan.final, tenant.primary_domain),
                             tenant.account)


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
    return _inbound_document(dialed, tenant.primary_domain, inbound)


def _inbound_document(dialed: str, domain: str, inbound: InboundPlan) -> bytes:
    """Blocked callers, then privacy screening, then the route: the first two are
    conditions on the caller's number, so this one answer serves every caller."""
    root, section = new_document("dialplan")
    ctx = etree.SubElement(section, "context", name=PUBLIC_CONTEXT)
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
    route = etree.SubElement(etree.SubElement(ctx, "extension", name=f"dialed-{dialed}"), "condition",
                             number_condition)
    final = inbound.plan.final
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


def _actions(condition: etree._Element, actions: list[tuple[str, str]]) -> None:
    for application, data in actions:
        attrs = {"application": application}
        if data:
            attrs["data"] = data
        etree.SubElement(condition, "action", attrs)


def _context_document(
    context: str, dialed: str, actions: list[tuple[str, str]], account: Account | None
) -> bytes:
    root, section = new_document("dialplan")
    ctx = etree.SubElement(section, "context", name=context)
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
    extension = etree.SubElement(ctx, "extension", name=f"dialed-{dialed}")
    condition = etree.SubElement(extension, "condition", field="destination_number",
                                 expression=f"^{re.escape(dialed)}$")
    _actions(condition, actions)
    return serialize(root)
