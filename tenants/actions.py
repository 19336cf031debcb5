"""Every write to accounts, domains and staff users goes through these functions.

Each one checks who may do it, validates, writes inside a transaction, and leaves an
audit event. Side effects that must only happen once the write is durable are
scheduled with ``transaction.on_commit`` here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import schema_exists

from tenants.models import (
    Account,
    ApiKey,
    AuditEvent,
    Domain,
    MasqueradeGrant,
    PhoneNumber,
    Role,
    User,
)
from tenants.models.apikeys import hash_token, new_token
from tenants.provisioning import drop_tenant_schema
from tenants.scoping import (
    NotInSubtree,
    may_change_user,
    may_toggle_user,
    require_manager_of,
    require_master_admin,
    require_visible,
)
from tenants.validators import is_ip_address, normalize_domain, normalize_e164, validate_domain_name

EDITABLE_ACCOUNT_FIELDS = (
    "name",
    "timezone",
    "language",
    "max_concurrent_calls",
    "max_extensions",
    "allow_international",
    "allow_premium_rate",
    "outbound_caller_id",
    "emergency_caller_id",
    "country",
)
MASQUERADE_SALT = "switchboard.masquerade"

# Listeners called (after commit) with the account whose routing-relevant state changed:
# status, deletion, domains, limits. FreeSWITCH-facing caches register here, so this
# module never imports them.
account_change_listeners: list[Callable[[Account], None]] = []


def _notify_account_changed(account: Account) -> None:
    def run() -> None:
        for listener in account_change_listeners:
            listener(account)

    transaction.on_commit(run)


def record(
    actor: User | None, account: Account | None, action: str, ip: str | None = None, **details
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=actor.username if actor else "",
        account=account,
        account_name=account.name if account else details.get("name", ""),
        scope_path=account.path if account else "",
        action=action,
        details=details,
        ip=ip,
    )


# --- accounts -------------------------------------------------------------------------


def _unique_schema_name(name: str) -> str:
    base = "t_" + re.sub(r"[^a-z0-9]+", "_", slugify(name)).strip("_")[:40]
    base = base if base != "t_" else "t_account"
    candidate, n = base, 1
    while Account.objects.filter(schema_name=candidate).exists() or schema_exists(candidate):
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def clean_domains(
    primary: str, aliases: Iterable[str], account: Account | None, *, allow_ip: bool = False
) -> list[str]:
    """Normalize and validate the primary domain and aliases; primary first. Only the
    master (the platform's own hosts) may use IP addresses."""
    names = [normalize_domain(primary)] + [normalize_domain(a) for a in aliases if a.strip()]
    errors: dict[str, list[str]] = {}
    for field, name in zip(["domain"] + ["aliases"] * (len(names) - 1), names, strict=True):
        try:
            validate_domain_name(name)
            if not allow_ip and is_ip_address(name):
                raise ValidationError(f"Use a domain name, not the address {name}.")
            if not allow_ip and "." not in name:
                # A bare name such as "default" or "public" would also be a FreeSWITCH
                # context name and capture calls meant for it.
                raise ValidationError(f"Use a fully qualified name, e.g. {name}.example.net.")
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    if len(set(names)) != len(names):
        raise ValidationError({"aliases": ["A domain is listed twice."]})
    taken = Domain.objects.filter(domain__in=names)
    if account is not None:
        taken = taken.exclude(tenant=account)
    taken_names = set(taken.values_list("domain", flat=True))
    if taken_names:
        field = "domain" if names[0] in taken_names else "aliases"
        # Do not say who owns it: that would reveal another tenant.
        raise ValidationError(
            {field: [ValidationError(f"The domain {n} is already in use on this platform.", code="taken")
                     for n in sorted(taken_names)]}
        )
    return names


def _clean_account_fields(fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError({f: ["This field cannot be set here."] for f in unknown})
    return dict(fields)


def limit_errors(account: Account, parent: Account) -> dict[str, list[str]]:
    """A reseller cannot hand out more than it has: a sub-account's limits stay within its
    parent's (the master's own limits do not bind what it sells)."""
    if parent.is_master:
        return {}
    errors: dict[str, list[str]] = {}
    for field in ("max_concurrent_calls", "max_extensions"):
        if getattr(account, field) > getattr(parent, field):
            errors[field] = [f"At most {getattr(parent, field)}, the limit of {parent.name}."]
    if account.allow_international and not parent.allow_international:
        errors["allow_international"] = [f"{parent.name} may not call internationally itself."]
    if account.allow_premium_rate and not parent.allow_premium_rate:
        errors["allow_premium_rate"] = [f"{parent.name} may not call premium-rate numbers itself."]
    return errors


# Calling switches a sub-account may only have while every account above it has them.
CALLING_SWITCHES = ("allow_international", "allow_premium_rate")


def _withdraw_from_subtree(actor: User, account: Account, ip: str | None, switches: list[str]) -> None:
    """``switches`` were just turned off on ``account``: its descendants lose them too,
    so a sub-account's calling never exceeds a reseller's (each change audited)."""
    for switch in switches:
        below = Account.objects.filter(path__startswith=account.path, depth__gt=account.depth,
                                       **{switch: True})
        for descendant in below:
            setattr(descendant, switch, False)
            descendant.save(update_fields=[switch, "updated_at"])
            record(actor, descendant, "account.update", ip, changed={switch: "False"},
                   reason=f"withdrawn with {account.name}'s")
            _notify_account_changed(descendant)


def _full_clean(account: Account, parent: Account | None = None) -> None:
    """Model validation, E.164 caller IDs and limits within the parent's, all at once."""
    errors: dict[str, list[str]] = {}
    if parent is not None:
        errors.update(limit_errors(account, parent))
    for key in ("outbound_caller_id", "emergency_caller_id"):
        try:
            setattr(account, key, normalize_e164(getattr(account, key)))
        except ValidationError as exc:
            errors[key] = exc.messages
    try:
        account.full_clean(
            exclude=["path", "depth", "numchild", "schema_name", *errors], validate_unique=False
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def check_new_account(
    actor: User,
    *,
    parent: Account,
    name: str,
    domain: str,
    kind: str = Account.Kind.CUSTOMER,
    aliases: Iterable[str] = (),
    **fields,
) -> tuple[Account, list[str]]:
    """Everything do_create_account checks, without writing: forms call it to show
    field errors before anything is created."""
    require_visible(actor, parent)
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Your role cannot create accounts.")
    if not parent.can_have_children:
        raise ValidationError({"parent": ["Only the master and resellers have sub-accounts."]})
    if not parent.is_effectively_active():
        raise ValidationError({"parent": ["The parent account is suspended."]})
    if kind == Account.Kind.RESELLER:
        if not (actor.account.is_master and actor.role == Role.ADMIN):
            raise ValidationError({"kind": ["Only the master account creates resellers."]})
    elif kind != Account.Kind.CUSTOMER:
        raise ValidationError({"kind": ["New accounts are customers or resellers."]})
    account = Account(name=name, kind=kind, **_clean_account_fields(fields))
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(account, parent)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        domains = clean_domains(domain, aliases, None)
    except ValidationError as exc:
        errors.update(exc.error_dict)  # with their codes: a taken domain is a conflict
    if errors:
        raise ValidationError(errors)
    return account, domains


@transaction.atomic
def do_create_account(
    actor: User,
    *,
    parent: Account,
    name: str,
    domain: str,
    kind: str = Account.Kind.CUSTOMER,
    aliases: Iterable[str] = (),
    admin_user: dict | None = None,
    ip: str | None = None,
    **fields,
) -> Account:
    account, domains = check_new_account(
        actor, parent=parent, name=name, domain=domain, kind=kind, aliases=aliases, **fields
    )
    account.schema_name = _unique_schema_name(name)
    account = Account.objects.add_child(parent, instance=account)
    for index, domain_name in enumerate(domains):
        Domain.objects.create(tenant=account, domain=domain_name, is_primary=index == 0)
    record(actor, account, "account.create", ip, parent=parent.name, kind=kind, domains=domains)
    if admin_user:
        do_create_staff_user(actor, account=account, role=Role.ADMIN, ip=ip, **admin_user)
    _notify_account_changed(account)
    return account


@transaction.atomic
def do_bootstrap_master(
    *, name: str, domains: Iterable[str], admin_username: str, admin_password: str,
    admin_email: str = "",
) -> Account:
    """Create the one master account (the public schema) and its first admin."""
    if Account.objects.filter(kind=Account.Kind.MASTER).exists():
        raise ValidationError({"kind": ["The master account already exists."]})
    domains = list(domains)
    names = clean_domains(domains[0], domains[1:], None, allow_ip=True)
    master = Account(
        name=name, kind=Account.Kind.MASTER, schema_name=settings.PUBLIC_SCHEMA_NAME
    )
    _full_clean(master)
    master = Account.objects.add_root(instance=master)
    for index, domain_name in enumerate(names):
        Domain.objects.create(tenant=master, domain=domain_name, is_primary=index == 0)
    admin = User(username=admin_username, email=admin_email, account=master, role=Role.ADMIN)
    admin.set_password(admin_password)
    admin.full_clean(exclude=["password"])
    admin.save()
    record(admin, master, "account.bootstrap", domains=names)
    return master


@transaction.atomic
def do_update_account(actor: User, account: Account, ip: str | None = None, **fields) -> Account:
    require_manager_of(actor, account)
    cleaned = _clean_account_fields(fields)
    changed = {k: v for k, v in cleaned.items() if getattr(account, k) != v}
    if not changed:
        return account
    for key, value in changed.items():
        setattr(account, key, value)
    _full_clean(account, None if account.is_master else Account.objects.get_parent(account))
    account.save(update_fields=[*changed, "updated_at"])
    record(actor, account, "account.update", ip, changed={k: str(v) for k, v in changed.items()})
    _notify_account_changed(account)
    _withdraw_from_subtree(actor, account, ip, [s for s in CALLING_SWITCHES if changed.get(s) is False])
    return account


@transaction.atomic
def do_set_domains(
    actor: User, account: Account, *, primary: str, aliases: Iterable[str] = (),
    ip: str | None = None,
) -> list[str]:
    require_manager_of(actor, account)
    names = clean_domains(primary, aliases, account, allow_ip=account.is_master)
    existing = {d.domain: d for d in account.domains.all()}
    if list(existing) and set(existing) == set(names) and existing[names[0]].is_primary:
        return names
    account.domains.exclude(domain__in=names).delete()
    account.domains.update(is_primary=False)
    for index, name in enumerate(names):
        Domain.objects.update_or_create(
            domain=name, defaults={"tenant": account, "is_primary": index == 0}
        )
    record(actor, account, "account.domains", ip, domains=names, before=sorted(existing))
    _notify_account_changed(account)
    return names


def _set_status(actor: User, account: Account, status: str, action: str, ip: str | None) -> Account:
    require_manager_of(actor, account)
    if account.is_master:
        raise ValidationError({"status": ["The master account cannot be suspended."]})
    if account.status == status:
        return account
    account.status = status
    account.save(update_fields=["status", "updated_at"])
    record(actor, account, action, ip)
    _notify_account_changed(account)
    return account


@transaction.atomic
def do_suspend_account(actor: User, account: Account, ip: str | None = None) -> Account:
    """Suspended: its calls and registrations are refused, and so are those of every
    account below it (they are suspended in effect, without losing their own status)."""
    return _set_status(actor, account, Account.Status.SUSPENDED, "account.suspend", ip)


@transaction.atomic
def do_reactivate_account(actor: User, account: Account, ip: str | None = None) -> Account:
    return _set_status(actor, account, Account.Status.ACTIVE, "account.reactivate", ip)


@transaction.atomic
def do_promote_to_reseller(actor: User, account: Account, ip: str | None = None) -> Account:
    require_master_admin(actor)
    require_visible(actor, account)
    if account.kind != Account.Kind.CUSTOMER:
        raise ValidationError({"kind": [f"{account.name} is not a customer account."]})
    account.kind = Account.Kind.RESELLER
    account.save(update_fields=["kind", "updated_at"])
    record(actor, account, "account.promote", ip)
    return account


@transaction.atomic
def do_demote_to_customer(actor: User, account: Account, ip: str | None = None) -> Account:
    require_master_admin(actor)
    require_visible(actor, account)
    if account.kind != Account.Kind.RESELLER:
        raise ValidationError({"kind": [f"{account.name} is not a reseller."]})
    account.refresh_from_db()
    if account.numchild:
        raise ValidationError(
            {"kind": [
                f"{account.name} still has {account.numchild} sub-account(s) (deleted ones "
                "count until purged); move or purge them first."
            ]}
        )
    account.kind = Account.Kind.CUSTOMER
    account.save(update_fields=["kind", "updated_at"])
    record(actor, account, "account.demote", ip)
    return account


@transaction.atomic
def do_move_account(
    actor: User, account: Account, new_parent: Account, ip: str | None = None
) -> Account:
    require_master_admin(actor)
    account = Account.objects.select_for_update().get(pk=account.pk)
    new_parent = Account.objects.select_for_update().get(pk=new_parent.pk)
    if account.is_master:
        raise ValidationError({"parent": ["The master account cannot be moved."]})
    if new_parent.is_deleted or not new_parent.can_have_children:
        raise ValidationError({"parent": [f"{new_parent.name} cannot have sub-accounts."]})
    if new_parent.is_within(account):
        raise ValidationError(
            {"parent": [f"{new_parent.name} is inside {account.name}; that would make a loop."]}
        )
    old_parent = Account.objects.get_parent(account)
    if old_parent.pk == new_parent.pk:
        return account
    Account.objects.move(account, new_parent, "last-child")
    account.refresh_from_db()
    record(actor, account, "account.move", ip, old_parent=old_parent.name, new_parent=new_parent.name)
    _notify_account_changed(account)
    return account


@transaction.atomic
def do_soft_delete_account(actor: User, account: Account, ip: str | None = None) -> Account:
    """Hide the account and stop its service; data and domains stay until purged."""
    require_manager_of(actor, account)
    if account.is_master or account.pk == actor.account_id:
        raise ValidationError({"account": ["You cannot delete your own account."]})
    live_children = Account.objects.live().subtree_of(account, include_self=False)
    if live_children.exists():
        raise ValidationError(
            {"account": [f"{account.name} still has sub-accounts; delete or move them first."]}
        )
    account.deleted_at = timezone.now()
    account.save(update_fields=["deleted_at", "updated_at"])
    record(actor, account, "account.delete", ip)
    _notify_account_changed(account)
    return account


@transaction.atomic
def do_restore_account(actor: User, account: Account, ip: str | None = None) -> Account:
    require_master_admin(actor)
    if not account.is_deleted:
        return account
    parent = Account.objects.get_parent(account)
    if parent.is_deleted:
        raise ValidationError({"account": [f"Restore {parent.name} first."]})
    account.deleted_at = None
    account.save(update_fields=["deleted_at", "updated_at"])
    record(actor, account, "account.restore", ip)
    _notify_account_changed(account)
    return account


@transaction.atomic
def do_purge_account(account: Account, actor: User | None = None) -> None:
    """Irreversibly drop a soft-deleted account: its schema, domains, users and row."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if not account.is_deleted:
        raise ValidationError({"account": [f"{account.name} is not deleted; delete it first."]})
    if account.numchild:
        raise ValidationError({"account": [f"{account.name} has sub-accounts; purge them first."]})
    schema, name, pk = account.schema_name, account.name, account.pk
    # Its numbers go back to the account that handed them down, unrouted.
    parent = Account.objects.get_parent(account)
    returned = list(PhoneNumber.objects.filter(account=account).values_list("e164", flat=True))
    PhoneNumber.objects.filter(account=account).update(
        account=None if parent.is_master else parent, route=""
    )
    account.domains.all().delete()
    User.objects.filter(account=account).delete()
    MasqueradeGrant.objects.filter(account=account).delete()
    Account.objects.filter(pk=pk).delete()
    drop_tenant_schema(schema)
    record(actor, None, "account.purge", name=name, schema=schema, account_id=pk,
           numbers_returned=returned)


# --- staff users ----------------------------------------------------------------------


@transaction.atomic
def do_create_staff_user(
    actor: User,
    *,
    account: Account,
    username: str,
    password: str,
    email: str = "",
    role: str = Role.ADMIN,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
) -> User:
    require_visible(actor, account)
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Your role cannot create users.")
    user = User(
        username=username, email=email, account=account, role=role,
        first_name=first_name, last_name=last_name,
    )
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    record(actor, account, "user.create", ip, username=username, role=role)
    return user


@transaction.atomic
def do_update_staff_user(actor: User, user: User, ip: str | None = None, **fields) -> User:
    if not may_change_user(actor, user):
        raise NotInSubtree if not user.account.is_within(actor.account) else PermissionDenied()
    allowed = {"email", "first_name", "last_name", "role", "is_active"}
    if set(fields) - allowed:
        raise ValidationError({f: ["This field cannot be set here."] for f in set(fields) - allowed})
    if user.pk == actor.pk and ("role" in fields or fields.get("is_active") is False):
        raise ValidationError({"role": ["You cannot change your own role or disable yourself."]})
    for key, value in fields.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    user.save()
    record(actor, user.account, "user.update", ip, username=user.username, changed=sorted(fields))
    return user


@transaction.atomic
def do_set_user_active(actor: User, user: User, active: bool, ip: str | None = None) -> User:
    if user.account is None or not user.account.is_within(actor.account):
        raise NotInSubtree
    if not may_toggle_user(actor, user):
        if actor.role == Role.USER_ACTIVATION and user.pk != actor.pk:
            raise PermissionDenied("User-activation staff enable and disable employees' logins only, "
                                   "not staff.")
        raise PermissionDenied("You may not enable or disable this user.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(actor, user.account, "user.enable" if active else "user.disable", ip,
               username=user.username)
    return user


@transaction.atomic
def do_set_staff_password(actor: User, user: User, password: str, ip: str | None = None) -> User:
    """An admin sets the password of a user they manage (a reset: the old one is not
    asked for). The user's open sessions end with it; their API keys do not."""
    if user.account is None or not user.account.is_within(actor.account):
        raise NotInSubtree
    if not may_change_user(actor, user):
        raise PermissionDenied("Only admins set other users' passwords.")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, user.account, "user.password", ip, username=user.username)
    return user


# --- masquerade ("Use account") -------------------------------------------------------


@dataclass(frozen=True)
class Masquerade:
    user: User
    account: Account
    grant_id: str


@transaction.atomic
def do_grant_masquerade(actor: User, account: Account, ip: str | None = None) -> str:
    """Return a one-time token that opens ``account``'s portal as its admin."""
    require_visible(actor, account)
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only account admins may use a sub-account.")
    if account.pk == actor.account_id or account.is_master:
        raise ValidationError({"account": ["Use account opens a sub-account, not your own."]})
    if not actor.account.is_effectively_active():
        raise PermissionDenied("Your account is suspended.")
    if not account.portal_host():
        suffixes = ", ".join(settings.PORTAL_HOST_SUFFIXES)
        raise ValidationError({"account": [
            f"{account.name} has no portal hostname under the platform's portal domain "
            f"({suffixes}); add one as a domain alias first."
        ]})
    grant = MasqueradeGrant.objects.create(user=actor, account=account)
    record(actor, account, "masquerade.grant", ip)
    return signing.dumps(str(grant.id), salt=MASQUERADE_SALT)


@transaction.atomic
def do_accept_masquerade(token: str, account: Account, ip: str | None = None) -> Masquerade:
    """Redeem a grant on the tenant host. Raises PermissionDenied for anything invalid."""
    try:
        grant_id = signing.loads(
            token, salt=MASQUERADE_SALT, max_age=settings.MASQUERADE_GRANT_SECONDS
        )
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise PermissionDenied("This link is invalid or has expired.") from exc
    grant = (
        MasqueradeGrant.objects.select_for_update(of=("self",))
        .select_related("user__account")
        .filter(pk=grant_id, account=account, used_at__isnull=True)
        .first()
    )
    if grant is None:
        raise PermissionDenied("This link is invalid or has already been used.")
    user = grant.user
    try:
        require_visible(user, account)
    except NotInSubtree as exc:
        raise PermissionDenied("You no longer manage this account.") from exc
    if not user.is_active or user.role != Role.ADMIN or not user.account.is_effectively_active():
        raise PermissionDenied("You no longer manage this account.")
    grant.used_at = timezone.now()
    grant.save(update_fields=["used_at"])
    record(user, account, "masquerade.start", ip, grant=str(grant.pk))
    return Masquerade(user=user, account=account, grant_id=str(grant.pk))


@transaction.atomic
def do_end_masquerade(user: User, account: Account, grant_id: str, ip: str | None = None) -> None:
    updated = MasqueradeGrant.objects.filter(
        pk=grant_id, user=user, account=account, ended_at__isnull=True
    ).update(ended_at=timezone.now())
    if updated:
        record(user, account, "masquerade.end", ip, grant=grant_id)


# --- API keys -------------------------------------------------------------------------


def _may_manage_keys_of(actor: User, user: User) -> bool:
    """Staff make and revoke keys for themselves, admins also for the users they manage
    (who could otherwise be given a password of the admin's choosing anyway)."""
    return actor.pk == user.pk or may_change_user(actor, user)


@transaction.atomic
def do_create_api_key(
    account: Account, *, actor: User, user: User, name: str, read_only: bool = False,
    expires_at=None, ip: str | None = None,
) -> tuple[ApiKey, str]:
    """A key for ``user`` (of ``account``) and its token, which is shown once: only its
    hash is kept. A key acts with its user's role, or only reads when ``read_only``."""
    if user.account_id != account.pk:
        raise ValidationError({"user": ["This user belongs to another account."]})
    require_visible(actor, account)
    if not _may_manage_keys_of(actor, user):
        raise PermissionDenied("You may not make API keys for this user.")
    errors: dict[str, list[str]] = {}
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if not user.is_active:
        errors["user"] = ["This user is disabled."]
    prefix, token = new_token()
    key = ApiKey(user=user, account=account, name=(name or "").strip(), read_only=bool(read_only),
                 expires_at=expires_at, prefix=prefix, token_hash=hash_token(token), created_by=actor)
    try:
        key.full_clean(exclude=["prefix", "token_hash", *errors])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    key.save()
    record(actor, account, "api_key.create", ip, name=key.name, username=user.username,
           prefix=key.prefix, read_only=key.read_only,
           expires_at=key.expires_at.isoformat() if key.expires_at else "")
    return key, token


@transaction.atomic
def do_revoke_api_key(account: Account, key: ApiKey, *, actor: User, ip: str | None = None) -> ApiKey:
    """The key stops working at once (the next request with it is refused)."""
    key = ApiKey.objects.select_for_update(of=("self",)).select_related("user__account").get(pk=key.pk)
    if key.account_id != account.pk:
        raise NotInSubtree
    require_visible(actor, account)
    if not _may_manage_keys_of(actor, key.user):
        raise PermissionDenied("You may not revoke this user's API keys.")
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record(actor, account, "api_key.revoke", ip, name=key.name, username=key.user.username,
           prefix=key.prefix)
    return key
