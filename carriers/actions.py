"""Every write to trunks and gateways: who may, validation, write, audit, and the signals
that make FreeSWITCH re-read its gateways and drop cached routing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from carriers.models import Gateway, Trunk
from carriers.signals import gateways_changed
from common.secrets import encrypt_secret
from common.signals import platform_config_changed
from tenants.actions import record
from tenants.models import Account, User
from tenants.scoping import require_manager_of

TRUNK_FIELDS = ("name", "enabled", "emergency", "rules", "weight_cost", "caller_id_regex",
                "caller_id_prefix", "caller_id_value", "send_asserted_identity", "number_format",
                "national_country", "ping_interval", "ping_failures")
# Trunk fields sofia.conf renders into each of its gateways: sofia applies them only to a
# gateway it creates, so a change drops (killgw) and re-creates every gateway of the trunk.
GATEWAY_SETTINGS_OF_TRUNK = frozenset({"enabled", "ping_interval", "ping_failures"})
GATEWAY_FIELDS = ("position", "server", "port", "transport", "realm", "username", "register",
                  "codecs", "prefix", "progress_timeout", "enabled")


def _changed(reason: str, stale: list[str] | None = None) -> None:
    # Trunks serve the owner's whole subtree, so every tenant's routing may change.
    platform_config_changed.send(sender=Trunk, reason=reason)
    gateways_changed.send(sender=Gateway, stale=stale or [])


def _unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({name: ["This field cannot be set here."] for name in unknown})


def _clean_trunk(trunk: Trunk) -> None:
    trunk.full_clean(exclude=["account"])
    if Trunk.objects.filter(account=trunk.account, name__iexact=trunk.name).exclude(pk=trunk.pk).exists():
        raise ValidationError({"name": [f"{trunk.account.name} already has a trunk named {trunk.name}."]})


def _apply_gateway(gateway: Gateway, fields: dict[str, Any]) -> None:
    _unknown(fields, (*GATEWAY_FIELDS, "password"))
    for name, value in fields.items():
        if name == "password":
            gateway.password_encrypted = encrypt_secret(value) if value else ""
        else:
            setattr(gateway, name, value)
    if gateway.register and not (gateway.username and gateway.password_encrypted):
        raise ValidationError({"register": ["Registering needs a username and a password."]})
    gateway.full_clean(exclude=["trunk"])


@transaction.atomic
def do_create_trunk(actor: User, account: Account, *, gateways: list[dict[str, Any]],
                    ip: str | None = None, **fields: Any) -> Trunk:
    """A trunk with its gateways (at least one). Only the admins of an account above
    ``account`` (or the master's, for platform trunks) manage its trunks."""
    require_manager_of(actor, account)
    _unknown(fields, TRUNK_FIELDS)
    if not gateways:
        raise ValidationError({"gateways": ["Add at least one gateway."]})
    trunk = Trunk(account=account, **fields)
    _clean_trunk(trunk)
    trunk.save()
    errors = []
    for position, gateway_fields in enumerate(gateways):
        gateway = Gateway(trunk=trunk, position=position)
        try:
            _apply_gateway(gateway, gateway_fields)
        except ValidationError as exc:
            errors += [f"Gateway {position + 1}, {field}: {message}"
                       for field, messages in exc.message_dict.items() for message in messages]
            continue
        gateway.save()
    if errors:
        raise ValidationError({"gateways": errors})
    record(actor, account, "trunk.create", ip, name=trunk.name, gateways=len(gateways))
    _changed("trunk.create")
    return trunk


@transaction.atomic
def do_update_trunk(actor: User, trunk: Trunk, *, ip: str | None = None, **fields: Any) -> Trunk:
    trunk = Trunk.objects.select_for_update().select_related("account").get(pk=trunk.pk)
    require_manager_of(actor, trunk.account)
    _unknown(fields, TRUNK_FIELDS)
    for name, value in fields.items():
        setattr(trunk, name, value)
    _clean_trunk(trunk)
    trunk.save()
    record(actor, trunk.account, "trunk.update", ip, name=trunk.name, fields=sorted(fields))
    rebuilt = GATEWAY_SETTINGS_OF_TRUNK & set(fields)
    stale = [g.freeswitch_name for g in trunk.gateways.all()] if rebuilt else []
    _changed("trunk.update", stale)
    return trunk


@transaction.atomic
def do_delete_trunk(actor: User, trunk: Trunk, *, ip: str | None = None) -> None:
    trunk = Trunk.objects.select_for_update().select_related("account").get(pk=trunk.pk)
    require_manager_of(actor, trunk.account)
    stale = [g.freeswitch_name for g in trunk.gateways.all()]
    record(actor, trunk.account, "trunk.delete", ip, name=trunk.name)
    trunk.delete()
    _changed("trunk.delete", stale)


@transaction.atomic
def do_save_gateway(actor: User, trunk: Trunk, gateway: Gateway | None = None, *,
                    ip: str | None = None, **fields: Any) -> Gateway:
    """Add a gateway to ``trunk`` or change one of its gateways."""
    trunk = Trunk.objects.select_related("account").get(pk=trunk.pk)
    require_manager_of(actor, trunk.account)
    if gateway is None:
        gateway = Gateway(trunk=trunk, position=trunk.gateways.count())
    elif gateway.trunk_id != trunk.pk:
        raise ValidationError({"gateway": ["This gateway belongs to another trunk."]})
    _apply_gateway(gateway, fields)
    created = gateway.pk is None
    gateway.save()
    record(actor, trunk.account, "gateway.create" if created else "gateway.update", ip,
           trunk=trunk.name, server=gateway.server)
    _changed("gateway.save", [] if created else [gateway.freeswitch_name])
    return gateway


@transaction.atomic
def do_remove_gateway(actor: User, gateway: Gateway, *, ip: str | None = None) -> None:
    gateway = Gateway.objects.select_related("trunk__account").get(pk=gateway.pk)
    require_manager_of(actor, gateway.trunk.account)
    if gateway.trunk.gateways.count() == 1:
        raise ValidationError({"gateway": ["A trunk keeps at least one gateway; delete the trunk instead."]})
    name = gateway.freeswitch_name
    record(actor, gateway.trunk.account, "gateway.delete", ip, trunk=gateway.trunk.name,
           server=gateway.server)
    gateway.delete()
    _changed("gateway.delete", [name])


@transaction.atomic
def do_set_trunk_source(actor: User, account: Account, source: str, *, ip: str | None = None) -> Account:
    """Parent: use the trunks of the account above. Local: use this account's own."""
    require_manager_of(actor, account)
    if account.is_master:
        raise ValidationError({"trunk_source": ["The master's trunks are the platform's trunks."]})
    if source not in Account.TrunkSource.values:
        raise ValidationError({"trunk_source": ["Choose parent or local."]})
    Account.objects.filter(pk=account.pk).update(trunk_source=source)
    account.trunk_source = source
    record(actor, account, "account.trunk_source", ip, source=source)
    platform_config_changed.send(sender=Account, reason="trunk_source")
    return account
