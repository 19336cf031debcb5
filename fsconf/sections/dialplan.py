"""section=dialplan: each tenant's context is named after its primary SIP domain (the
directory sets ``user_context`` to it), so the context identifies the tenant."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from lxml import etree

from fsconf.destinations import (
    actions_for,
    caller_from,
    inbound_actions,
    resolve_dialed,
    route_destination,
)
from fsconf.documents import NOT_FOUND, new_document, serialize
from fsconf.request import FetchRequest
from fsconf.tenancy import tenant_for_domain, tenant_for_number
from tenants.models import Account
from tenants.validators import normalize_e164

PUBLIC_CONTEXT = "public"


CALLER_VARIABLES = ("variable_user_name", "variable_toll_allow", "variable_outbound_caller_id_number",
                    "variable_outbound_caller_id_name", "variable_emergency_caller_id_number")


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    """The context, the number and what the answer reads of the caller."""
    return ("dialplan", fetch.get("Hunt-Context") or fetch.get("Caller-Context"),
            fetch.get("Hunt-Destination-Number") or fetch.get("Caller-Destination-Number"),
            *(fetch.get(name) for name in CALLER_VARIABLES))


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
    destination = resolve_dialed(tenant, dialed, fetch.get("variable_user_name"), caller_from(fetch))
    actions = actions_for(destination, tenant.primary_domain)
    return _context_document(context, dialed, actions, tenant.account)


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
    destination = route_destination(tenant, number.route)
    actions, runs_here = inbound_actions(destination, tenant.primary_domain)
    return _context_document(PUBLIC_CONTEXT, dialed, actions, tenant.account if runs_here else None)


def _context_document(
    context: str, dialed: str, actions: list[tuple[str, str]], account: Account | None
) -> bytes:
    root, section = new_document("dialplan")
    ctx = etree.SubElement(section, "context", name=context)
    if account is not None:
        # The account's concurrent-call limit, checked before anything else runs.
        limit = etree.SubElement(ctx, "extension", name="account-call-limit", attrib={"continue": "true"})
        etree.SubElement(etree.SubElement(limit, "condition"), "action", application="limit",
                         data=f"hash {account.schema_name} calls {account.max_concurrent_calls} "
                              "!NORMAL_TEMPORARY_FAILURE")
    extension = etree.SubElement(ctx, "extension", name=f"dialed-{dialed}")
    condition = etree.SubElement(extension, "condition", field="destination_number",
                                 expression=f"^{re.escape(dialed)}$")
    for application, data in actions:
        attrs = {"application": application}
        if data:
            attrs["data"] = data
        etree.SubElement(condition, "action", attrs)
    return serialize(root)
