"""section=directory: SIP credentials and per-user variables, per tenant."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context
from lxml import etree

from common.secrets import a1_hash, decrypt_secret
from fsconf import directory_index
from fsconf.documents import NOT_FOUND, new_document, serialize, xml_safe
from fsconf.models import DirectoryEntry
from fsconf.request import FetchRequest
from fsconf.tenancy import Tenant, tenant_for_domain
from fsnodes.models import AuthBlock
from pbx.models import Extension
from pbx.permissions import toll_allow
from tenants.tenancy import serving_domain_names
from tenants.validators import normalize_domain

# FreeSWITCH's vanilla domain dial-string: every registered contact of the dialed user.
DIAL_STRING_VARIABLES = "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}"
DOMAIN_DIAL_STRING = (
    DIAL_STRING_VARIABLES + "${sofia_contact(*/${dialed_user}@${dialed_domain})},"
    "${verto_contact(${dialed_user}@${dialed_domain})}"
)
log = logging.getLogger(__name__)

# sofia authenticates a request against the digest realm the phone answered with (the
# lookup's ``domain``) and never compares it with the identity the request claims
# (sofia_reg_parse_auth); a registration is stored under the To host. With
# force-register-domain off, which multi-tenancy needs, only this answer can refuse a
# phone of one tenant that authenticates with its own realm and password while
# registering as, or calling from, another tenant's user. So a ``sip_auth`` lookup is
# answered only when these SIP hosts are domains of the realm's account:
# - REGISTER: To (the address of record the registration is stored under) and From;
# - SUBSCRIBE and PUBLISH: From and To too, since To is the presence/BLF or MWI resource
#   watched or published, and another tenant's would show its calls or messages;
# - INVITE and every other method (MESSAGE, REFER, INFO, ...): From, the caller's
#   identity; To and the request URI name the destination, which the dialplan decides;
# - no sip_auth_method (older FreeSWITCH): From only.
# A host FreeSWITCH did not send is not checked. The other actions (user_call,
# group_call, message-count, voicemail-lookup, reverse-auth-lookup) are lookups our own
# dialplan, mod_voicemail or sofia make by user and domain with no SIP hosts: nothing
# claimed, nothing to compare; MWI for another tenant's box cannot be subscribed (above).
BOTH_ENDS_METHODS = frozenset({"REGISTER", "SUBSCRIBE", "PUBLISH"})


def claimed_hosts(fetch: FetchRequest) -> tuple[str, ...]:
    """The SIP hosts a ``sip_auth`` lookup claims as its identity, normalized."""
    if fetch.get("action") != "sip_auth":
        return ()
    fields = (("sip_from_host", "sip_to_host") if fetch.get("sip_auth_method").upper() in BOTH_ENDS_METHODS
              else ("sip_from_host",))
    return tuple(sorted({normalize_domain(host) for host in map(fetch.get, fields) if host}))


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    """Every lookup of one user (sip_auth, user_call, message-count, ...) gets the same
    document, so the action is not part of it; a claimed host other than the realm is
    (whether it belongs to the realm's account decides the answer)."""
    domain = normalize_domain(fetch.get("domain") or fetch.key_value)
    identity = ("directory", fetch.get("purpose"), domain, fetch.get("user"),
                fetch.get("sip_auth_realm"), fetch.get("group_name"))
    others = tuple(host for host in claimed_hosts(fetch) if host != domain)
    identity = (*identity, "claims", *others) if others else identity
    if fetch.get("action") == "sip_auth":
        # A password guesser's user or address may be blocked (fsnodes.auth_guard): an
        # authentication's answer depends on who asks and from where, a call's does not
        # (a guesser must not stop a user's calls). A block's start and end bump the
        # generation, so a warm fetch still reads nothing.
        identity = (*identity, "auth", fetch.get("ip"))
    return identity


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
    foreign = [host for host in claimed_hosts(fetch) if host not in tenant.domains]
    if foreign:
        # Logged for the operator and fail2ban: the address is the phone's.
        log.warning("directory: %s %s@%s from %s claims %s, not a domain of that account: refused",
                    fetch.get("sip_auth_method") or "request", user[:64], domain[:100],
                    fetch.get("ip")[:64], ",".join(foreign)[:200])
        return NOT_FOUND
    entry = UNREAD
    if fetch.get("action") == "sip_auth":
        entry, blocked = auth_lookup(tenant, user, fetch.get("ip"))
        if blocked:
            log.warning("directory: sip_auth %s@%s from %s refused: blocked after repeated failures",
                        user[:64], domain[:100], fetch.get("ip")[:64])
            return NOT_FOUND
    # The digest realm is the From host exactly as the phone sent it (challenge-realm
    # auto_from); the lookup above is case-insensitive, the hash must not be.
    realm = fetch.get("sip_auth_realm") or domain.strip()
    return user_document(tenant, realm, user, entry) or NOT_FOUND


UNREAD = object()  # user_document looks the user up itself


def auth_lookup(tenant: Tenant, user_id: str, address: str) -> tuple[object, bool]:
    """For a ``sip_auth`` fetch: (the user's entry, or UNREAD; whether a live
    password-guessing block refuses it). From the index, the block check rides on the
    user's lookup (no extra query); else it is one indexed query of its own."""
    ip = address if address and is_ip(address) else None
    if from_index():
        return directory_index.lookup_for_auth(tenant.account.pk, user_id, ip)
    return UNREAD, sip_auth_blocked(tenant, user_id, address)


def sip_auth_blocked(tenant: Tenant, user_id: str, address: str) -> bool:
    """A live block of this user of this account, or of the address the request came
    from (one indexed query)."""
    covered = Q(kind=AuthBlock.Kind.USER, account_id=tenant.account.pk, user_id=user_id)
    if address and is_ip(address):
        covered |= Q(kind=AuthBlock.Kind.ADDRESS, address=address)
    return AuthBlock.objects.filter(covered, cleared_at__isnull=True, expires_at__gt=timezone.now()).exists()


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def gateway_domains() -> bytes:
    """``purpose=gateways``: sofia asks for every domain at profile start; with
    ``<domain name="all" alias="true"/>`` each becomes an alias of the profile."""
    root, section = new_document("directory")
    for name in serving_domain_names():
        etree.SubElement(section, "domain", name=name)
    return serialize(root)


# The lookup behind every REGISTER and call comes from the public directory index
# (fsconf.directory_index), one query that never enters the tenant's schema: at 1,000
# tenants a cold fetch paid more for loading a tenant schema's catalog entries than for
# its queries. The same lookup in the tenant's own tables, below, is the reference the
# index is tested against and the benchmark's "before" (FSCONF_DIRECTORY_INDEX = False).
#
# In SQL (the ORM's building of it cost more than running it): the enabled device named
# ``user`` with its extension, else the enabled extension numbered ``user``, else the
# standalone voicemail box numbered ``user`` (mod_voicemail looks boxes up as directory
# users); with the extension's enabled devices and its voicemail box. Tables are named
# with their schema, so the lookup needs no search_path switch.
_SCHEMA_USER_SQL = """
    WITH hit AS (
      (SELECT dv.extension_id AS extension_id, dv.username AS device_username,
              dv.secret_encrypted AS device_secret, NULL::bigint AS box_id, 0 AS rank
       FROM {schema}.pbx_device dv JOIN {schema}.pbx_extension e ON e.id = dv.extension_id
       WHERE dv.username = %s AND dv.enabled AND e.enabled)
      UNION ALL
      (SELECT e.id, NULL, NULL, NULL, 1 FROM {schema}.pbx_extension e WHERE e.number = %s AND e.enabled)
      UNION ALL
      (SELECT NULL, NULL, NULL, b.id, 2 FROM {schema}.pbx_voicemailbox b
       WHERE b.number = %s AND b.extension_id IS NULL)
      ORDER BY rank LIMIT 1
    )
    SELECT e.*, hit.device_username, hit.device_secret,
           b.number AS vm_number, b.name AS vm_name, b.pin AS vm_pin, b.email AS vm_email,
           b.sms_email AS vm_sms_email, b.delete_after_email AS vm_delete_after_email,
           b.skip_instructions AS vm_skip_instructions, b.enabled AS vm_enabled,
           ARRAY(SELECT s.username FROM {schema}.pbx_device s
                 WHERE s.extension_id = e.id AND s.enabled ORDER BY s.username) AS siblings
    FROM hit
    LEFT JOIN {schema}.pbx_extension e ON e.id = hit.extension_id
    LEFT JOIN {schema}.pbx_voicemailbox b ON b.id = hit.box_id OR b.extension_id = hit.extension_id
"""
NOT_REGISTERED = "error/user_not_registered"


def from_index() -> bool:
    return getattr(settings, "FSCONF_DIRECTORY_INDEX", True)


def find_user(tenant: Tenant, user_id: str) -> DirectoryEntry | None:
    if from_index():
        return directory_index.lookup(tenant.account.pk, user_id)
    return schema_user(tenant, user_id)


def schema_user(tenant: Tenant, user_id: str) -> DirectoryEntry | None:
    """The lookup in the tenant's own tables, as an (unsaved) index entry."""
    sql = _SCHEMA_USER_SQL.format(schema=connection.ops.quote_name(tenant.account.schema_name))
    rows = list(Extension.objects.raw(sql, [user_id, user_id, user_id]))
    if not rows:
        return None
    row = rows[0]
    kind = (DirectoryEntry.Kind.DEVICE if row.device_username is not None
            else DirectoryEntry.Kind.EXTENSION if row.pk is not None else DirectoryEntry.Kind.VOICEMAIL_BOX)
    return DirectoryEntry(
        account_id=tenant.account.pk, user_id=user_id, kind=kind, device_secret=row.device_secret,
        extension_id=row.pk, siblings=row.siblings,
        **{name: getattr(row, name) for name in _EXTENSION_FACTS},
        **{name: getattr(row, name) for name in _BOX_FACTS},
    )


_EXTENSION_FACTS = (
    "number", "name", "outbound_caller_id_name", "outbound_caller_id_number", "language",
    "timezone", "ring_seconds", "voicemail_enabled", "call_permission", "allow_premium_rate",
    "call_groups",
    "emergency_callback_number",
)
_BOX_FACTS = ("vm_number", "vm_pin", "vm_email", "vm_sms_email", "vm_delete_after_email",
              "vm_skip_instructions", "vm_enabled")


def user_document(tenant: Tenant, realm: str, user_id: str, entry: object = UNREAD) -> bytes | None:
    """The directory entry for ``user_id`` — a device's SIP username, an extension
    number (which rings all of that extension's enabled devices) or a standalone
    voicemail box's number — in ``realm``. ``entry``: the user's index entry when the
    caller has already read it (None: there is none)."""
    extension = find_user(tenant, user_id) if entry is UNREAD else entry
    if extension is None:
        return None
    root, section = new_document("directory")
    domain = _domain_element(section, realm)
    users = etree.SubElement(etree.SubElement(etree.SubElement(domain, "groups"), "group",
                                              name="default"), "users")
    user = etree.SubElement(users, "user", id=user_id)
    is_device = extension.kind == DirectoryEntry.Kind.DEVICE
    secret = decrypt_secret(extension.device_secret) if is_device else None
    # sofia lets in anyone, with any password, as a user that has neither a password nor
    # an a1-hash (sofia_reg.c: "if (zstr(passwd) && zstr(a1_hash)) { ret = AUTH_OK;"):
    # whatever is not a device gets a hash nobody can produce.
    params = {"a1-hash": a1_hash(user_id, realm, secret) if secret is not None
              else unusable_a1_hash(tenant, realm, user_id)}
    params.update(voicemail_params(extension))
    if extension.extension_id is None:
        # A voicemail box only: nothing to ring, nothing to call as.
        params["dial-string"] = NOT_REGISTERED
        _params(user, params)
        _variables(user, {"timezone": tenant.account.timezone})
        return serialize(root)
    ringing = [user_id] if is_device and user_id != extension.number else extension.siblings
    params["dial-string"] = dial_string(ringing, list(tenant.domains))
    _params(user, params)
    _variables(user, _user_variables(tenant, extension))
    return serialize(root)


def unusable_a1_hash(tenant: Tenant, realm: str, user_id: str) -> str:
    """Stable per user (the document stays the same from render to render), secret
    (derived from SECRET_KEY), so no digest response can match it."""
    key = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    key.update(f"no-sip-login:{tenant.account.schema_name}:{realm}:{user_id}".encode())
    return key.hexdigest()[:32]


def voicemail_params(row: DirectoryEntry) -> dict[str, str]:
    """mod_voicemail's user params (mod_voicemail.c: voicemail_leave_main, deliver_vm,
    voicemail_check_main) for the box on ``row`` (its ``vm_*`` columns).
    Without a box, or with the box or the extension's voicemail off, ``vm-enabled`` is
    false: no message is taken and nobody logs in (old messages are kept)."""
    if row.vm_number is None:
        return {"vm-enabled": "false"}
    on = row.vm_enabled and (row.extension_id is None or row.voicemail_enabled)
    params = {"vm-enabled": "true" if on else "false", "vm-password": row.vm_pin}
    # No vm-mailto / vm-notify-mailto: Switchboard mails new messages itself
    # (pbx.voicemail_email, from the node manager's leave-message event). FreeSWITCH's
    # mailer would send a second mail, and vm-keep-local-after-email=false would make it
    # delete the message before the event's mirror row, the phone or the portal saw it.
    if row.vm_skip_instructions:
        params["vm-skip-instructions"] = "true"
    return params


def _domain_element(section: etree._Element, name: str) -> etree._Element:
    domain = etree.SubElement(section, "domain", name=name)
    _params(domain, {"dial-string": DOMAIN_DIAL_STRING})
    return domain


def group_document(tenant: Tenant, domain_name: str, group: str) -> bytes | None:
    """``group_call``: the group's extensions as pointers; FreeSWITCH then looks each one
    up (a user lookup) for its dial-string."""
    if from_index():
        numbers = directory_index.group_numbers(tenant.account.pk, group)
    else:
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


def _user_variables(tenant: Tenant, extension: DirectoryEntry) -> dict[str, str]:
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
        # Emergency calls present the extension's own callback DID (its E911 location).
        **({"emergency_caller_id_number": extension.emergency_callback_number}
           if extension.emergency_callback_number else {}),
    }


def _params(parent: etree._Element, values: dict[str, str]) -> None:
    if values:
        holder = etree.SubElement(parent, "params")
        for name, value in values.items():
            etree.SubElement(holder, "param", name=name, value=xml_safe(value))


def _variables(parent: etree._Element, values: dict[str, str]) -> None:
    holder = etree.SubElement(parent, "variables")
    for name, value in values.items():
        etree.SubElement(holder, "variable", name=name, value=xml_safe(value))
