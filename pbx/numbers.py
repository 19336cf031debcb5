"""Phone numbers: imported into the master's pool, assigned down the hierarchy, routed by
the owning tenant. The public-schema rows are the DID index; the route points at the
tenant's own objects and is checked against them."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from common.signals import platform_config_changed
from pbx.destinations import describe, validate_target
from pbx.models import MohGroup
from tenants.actions import record
from tenants.models import Account, PhoneNumber, Role, User
from tenants.scoping import require_master_admin, require_visible
from tenants.validators import normalize_e164, validate_printable


@transaction.atomic
def do_import_numbers(actor: User, numbers: Iterable[str], ip: str | None = None) -> list[PhoneNumber]:
    """The master adds numbers to the platform pool."""
    require_master_admin(actor)
    errors, cleaned = [], []
    for raw in numbers:
        if not (raw or "").strip():
            continue
        try:
            cleaned.append(normalize_e164(raw))
        except ValidationError as exc:
            errors.extend(exc.messages)
    twice = sorted({n for n in cleaned if cleaned.count(n) > 1})
    errors += [f"{n} is listed more than once." for n in twice]
    taken = set(PhoneNumber.objects.filter(e164__in=cleaned).values_list("e164", flat=True))
    errors += [f"{n} is already on the platform." for n in sorted(taken)]
    if not cleaned and not errors:
        errors.append("Give at least one number.")
    if errors:
        raise ValidationError({"numbers": errors})
    created = [PhoneNumber.objects.create(e164=n) for n in cleaned]
    record(actor, actor.account, "numbers.import", ip, numbers=cleaned)
    platform_config_changed.send(sender=PhoneNumber, reason="numbers.import")
    return created


@transaction.atomic
def do_assign_number(actor: User, number: PhoneNumber, account: Account,
                     ip: str | None = None) -> PhoneNumber:
    """Hand a number one step down: from the pool (master) or from the actor's own
    account to an account below it. A number belongs to one tenant at a time."""
    require_visible(actor, account)
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Your role is read-only.")
    number = PhoneNumber.objects.select_for_update(of=("self",)).select_related("account").get(pk=number.pk)
    holder = number.account
    if holder is None:
        require_master_admin(actor)
        giver = actor.account
    elif holder.pk != actor.account_id:
        raise PermissionDenied("Only the account holding a number can hand it on.")
    else:
        giver = holder
    if account.is_master or Account.objects.get_parent(account).pk != giver.pk:
        raise ValidationError({"account": [f"{number.e164} can only go to an account directly below "
                                           f"{giver.name}."]})
    number.account, number.route = account, ""
    number.save(update_fields=["account", "route"])
    record(actor, account, "number.assign", ip, number=number.e164)
    platform_config_changed.send(sender=PhoneNumber, reason="number.assign")
    return number


def _held_for_change(account: Account, number: PhoneNumber, actor: User | None) -> PhoneNumber:
    """The number, locked, once it is sure ``actor`` (None: the platform) may change how
    ``account`` uses it."""
    if actor is not None:
        require_visible(actor, account)
        if actor.role != Role.ADMIN:
            raise PermissionDenied("Your role is read-only.")
    number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    if number.account_id != account.pk:
        raise PermissionDenied("This number does not belong to the account.")
    if account.is_master:
        raise ValidationError({"account": ["Assign the number to an account before routing it."]})
    return number


@transaction.atomic
def do_set_number_options(account: Account, number: PhoneNumber, *, actor: User | None = None,
                          caller_id_name: str | None = None, privacy_screening: bool | None = None,
                          moh_group: int | object | None = ..., ip: str | None = None) -> PhoneNumber:
    """The per-number options besides its route: the caller-ID name shown with its calls,
    privacy screening (callers without a ten-digit caller ID key one in) and the
    hold-music group (a pbx.MohGroup of the account; None for the default)."""
    number = _held_for_change(account, number, actor)
    changes: list[str] = []
    if caller_id_name is not None:
        number.caller_id_name = caller_id_name.strip()
        changes.append("caller_id_name")
    if privacy_screening is not None:
        number.privacy_screening = bool(privacy_screening)
        changes.append("privacy_screening")
    if moh_group is not ...:
        group_id = getattr(moh_group, "pk", moh_group)
        if group_id is not None:
            with schema_context(account.schema_name):
                if not MohGroup.objects.filter(pk=group_id).exists():
                    raise ValidationError({"moh_group": ["That hold-music group does not exist."]})
        number.moh_group_id = group_id
        changes.append("moh_group_id")
    if len(number.caller_id_name) > 50:
        raise ValidationError({"caller_id_name": ["At most 50 characters."]})
    try:
        validate_printable(number.caller_id_name)
    except ValidationError as exc:
        raise ValidationError({"caller_id_name": exc.messages}) from exc
    number.save(update_fields=changes)
    record(actor, account, "number.options", ip, number=number.e164, fields=changes)
    platform_config_changed.send(sender=PhoneNumber, reason="number.options")
    return number


@transaction.atomic
def do_route_number(account: Account, number: PhoneNumber, *, route: str,
                    actor: User | None = None, ip: str | None = None) -> PhoneNumber:
    """Send calls to a number of ``account`` to a destination of its own (``route`` ""
    clears it). ``actor`` None is the platform itself (demo data, migrations); people
    always act as themselves."""
    number = _held_for_change(account, number, actor)
    with schema_context(account.schema_name):
        try:
            validate_target(route)
        except ValidationError as exc:
            raise ValidationError({"route": exc.messages}) from exc
        described = describe(route)
    number.route = route
    number.save(update_fields=["route"])
    record(actor, account, "number.route", ip, number=number.e164, route=route, to=described)
    platform_config_changed.send(sender=PhoneNumber, reason="number.route")
    return number


@transaction.atomic
def do_release_number(actor: User, number: PhoneNumber, ip: str | None = None) -> PhoneNumber:
    """Give a number back one step up: to the account that handed it down, or to the
    platform pool from a direct customer of the master. Its route goes with it, so no
    call reaches the old holder through it. The holder's admins or any admin above may
    release it."""
    number = PhoneNumber.objects.select_for_update(of=("self",)).select_related("account").get(pk=number.pk)
    holder = number.account
    if holder is None:
        raise ValidationError({"number": [f"{number.e164} is already in the platform pool."]})
    require_visible(actor, holder)
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Your role is read-only.")
    parent = Account.objects.get_parent(holder) if not holder.is_master else None
    number.account = None if parent is None or parent.is_master else parent
    number.route = ""
    number.save(update_fields=["account", "route"])
    record(actor, holder, "number.release", ip, number=number.e164,
           to=number.account.name if number.account else "pool")
    platform_config_changed.send(sender=PhoneNumber, reason="number.release")
    return number
