"""section=directory: SIP credentials and per-user variables, per tenant."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context
from lxml import etree

from fsconf.documents import NOT_FOUND, new_document, serialize, xml_safe
from fsconf.request import FetchRequest
from fsconf.tenancy import Tenant, serving_domain_names, tenant_for_domain
from pbx.models import Extension
from pbx.models.extensions import CallPermission
from pbx.secrets import a1_hash, decrypt_secret
from tenants.models import Account
from tenants.validators import normalize_domain

# FreeSWITCH's vanilla domain dial-string: every registered contact of the dialed user.
DIAL_STRING_VARIABLES = "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
DOMAIN_DIAL_STRING = (
    DIAL_STRING_VARIABLES + "${sofia_contact(*/${dialed_user}@${dialed_domain})},"
    "${verto_contact(${dialed_user}@${dialed_domain})}"
)
TOLL_ALLOW = {
    CallPermission.INTERNAL: "",
    CallPermission.LOCAL: "local",
    CallPermission.DOMESTIC: "local,domestic",
    CallPermission.INTERNATIONAL: "local,domestic,international",
}


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    """Every lookup of one user (sip_auth, user_call, message-count, ...) gets the same
    document, so the action is not part of it."""
    return ("directory", fetch.get("purpose"), normalize_domain(fetch.get("domain") or fetch.key_value),
            fetch.get("user"), fetch.get("sip_auth_realm"), fetch.get("group_name"))


def answer(fetch: FetchRequest) -> bytes:
    if fetch.get("purpose") == "gateways":
        return gateway_domains()
    domain = fetch.get("domain") or fetch.key_value
    user = fetch.get("user")
    if not domain:
        return NOT_FOUND
    if not user and fetch.get("purpose") != "network-list" and not fetch.get("group_name"):
        return NOT_FOUND
    tenant = tenant_for_domain(domain)
    if tenant is None or not tenant.serving:
        return NOT_FOUND
    if not user:
        if fetch.get("group_name"):
            return group_document(tenant, domain.strip(), fetch.get("group_name")) or NOT_FOUND
        return network_list_document(domain.strip())
    # The digest realm is the From host exactly as the phone sent it (challenge-realm
    # auto_from); the lookup above is case-insensitive, the hash must not be.
    realm = fetch.get("sip_auth_realm") or domain.strip()
    return user_document(tenant, realm, user) or NOT_FOUND


def gateway_domains() -> bytes:
    """``purpose=gateways``: sofia asks for every domain at profile start; with
    ``<domain name="all" alias="true"/>`` each becomes an alias of the profile."""
    root, section = new_document("directory")
    for name in serving_domain_names():
        etree.SubElement(section, "domain", name=name)
    return serialize(root)


# The lookup behind every REGISTER and call, in SQL (the ORM's building of it cost more
# than running it): the enabled device named ``user`` with its extension, else the
# enabled extension numbered ``user``; with the extension's enabled devices.
# Tables are named with their schema, so the lookup needs no search_path switch (two
# round trips saved per fetch).
_USER_SQL = """
    WITH hit AS (
      (SELECT e.*, dv.username AS device_username, dv.secret_encrypted AS device_secret, 0 AS rank
       FROM {schema}.pbx_device dv JOIN {schema}.pbx_extension e ON e.id = dv.extension_id
       WHERE dv.username = %s AND dv.enabled AND e.enabled)
      UNION ALL
      (SELECT e.*, NULL, NULL, 1 FROM {schema}.pbx_extension e WHERE e.number = %s AND e.enabled)
      ORDER BY rank LIMIT 1
    )
    SELECT hit.*, ARRAY(SELECT s.username FROM {schema}.pbx_device s
                        WHERE s.extension_id = hit.id AND s.enabled ORDER BY s.username) AS siblings
    FROM hit
"""


def user_document(tenant: Tenant, realm: str, user_id: str) -> bytes | None:
    """The directory entry for ``user_id`` — a device's SIP username, or an extension
    number (which rings all of that extension's enabled devices) — in ``realm``. One
    query in the tenant's schema in the usual case (the user is a device)."""
    sql = _USER_SQL.format(schema=connection.ops.quote_name(tenant.account.schema_name))
    rows = list(Extension.objects.raw(sql, [user_id, user_id]))
    if not rows:
        return None
    extension = rows[0]
    is_device = extension.device_username is not None
    ringing = [user_id] if is_device and user_id != extension.number else extension.siblings
    root, section = new_document("directory")
    domain = _domain_element(section, realm)
    users = etree.SubElement(etree.SubElement(etree.SubElement(domain, "groups"), "group",
                                              name="default"), "users")
    user = etree.SubElement(users, "user", id=user_id)
    params: dict[str, str] = {}
    if is_device:
        secret = decrypt_secret(extension.device_secret)
        if secret is not None:
            params["a1-hash"] = a1_hash(user_id, realm, secret)
    if extension.voicemail_pin:
        params["vm-password"] = extension.voicemail_pin
    params["dial-string"] = dial_string(ringing, list(tenant.domains))
    _params(user, params)
    _variables(user, _user_variables(tenant, extension))
    return serialize(root)


def _domain_element(section: etree._Element, name: str) -> etree._Element:
    domain = etree.SubElement(section, "domain", name=name)
    _params(domain, {"dial-string": DOMAIN_DIAL_STRING})
    return domain


def group_document(tenant: Tenant, domain_name: str, group: str) -> bytes | None:
    """``group_call``: the group's extensions as pointers; FreeSWITCH then looks each one
    up (a user lookup) for its dial-string."""
    with schema_context(tenant.account.schema_name):
        numbers = list(Extension.objects.filter(call_groups__contains=[group], enabled=True)
                       .order_by("number").values_list("number", flat=True))
    if not numbers:
        return None
    root, section = new_document("directory")
    domain = _domain_element(section, domain_name)
    users = etree.SubElement(etree.SubElement(etree.SubElement(domain, "groups"), "group", name=group),
                             "users")
    for number in numbers:
        etree.SubElement(users, "user", id=number, type="pointer")
    return serialize(root)


def network_list_document(domain_name: str) -> bytes:
    """``purpose=network-list`` (acl.conf lists naming the domain): FreeSWITCH only reads
    users' ``cidr`` attributes here. No user is authenticated by address, so the domain
    comes without users: an empty list, where not-found would send FreeSWITCH to its
    static directory."""
    root, section = new_document("directory")
    _domain_element(section, domain_name)
    return serialize(root)


def dial_string(usernames: list[str], domains: list[str]) -> str:
    """Every registration of the given devices: phones register under whichever of the
    account's domains they were configured with (primary or alias), and a disabled device
    is left out even while its last registration is still live."""
    if not usernames:
        return "error/user_not_registered"
    contacts = ",".join(
        f"${{sofia_contact(*/{name}@{domain})}}" for name in usernames for domain in domains
    )
    return DIAL_STRING_VARIABLES + contacts


def _user_variables(tenant: Tenant, extension: Extension) -> dict[str, str]:
    account = tenant.account
    return {
        "user_context": tenant.primary_domain,
        "accountcode": tenant.primary_domain,
        "effective_caller_id_name": extension.name,
        "effective_caller_id_number": extension.number,
        "outbound_caller_id_name": extension.outbound_caller_id_name or account.name,
        "outbound_caller_id_number": extension.outbound_caller_id_number or account.outbound_caller_id,
        "toll_allow": toll_allow(account, extension),
        "default_language": extension.language or account.language,
        "timezone": extension.timezone or account.timezone,
        "call_timeout": str(extension.ring_seconds),
        **({"callgroup": ",".join(extension.call_groups)} if extension.call_groups else {}),
    }


def toll_allow(account: Account, extension: Extension) -> str:
    """The extension's permission, never beyond the account's own (international calls
    are a per-account switch, set by the provider)."""
    allowed = TOLL_ALLOW[extension.call_permission].split(",")
    if not account.allow_international:
        allowed = [a for a in allowed if a != "international"]
    return ",".join(a for a in allowed if a)


def _params(parent: etree._Element, values: dict[str, str]) -> None:
    if values:
        holder = etree.SubElement(parent, "params")
        for name, value in values.items():
            etree.SubElement(holder, "param", name=name, value=xml_safe(value))


def _variables(parent: etree._Element, values: dict[str, str]) -> None:
    holder = etree.SubElement(parent, "variables")
    for name, value in values.items():
        etree.SubElement(holder, "variable", name=name, value=xml_safe(value))
