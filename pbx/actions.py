"""Writes to a tenant's PBX data. Each runs inside the tenant's schema and leaves an audit
event in the public schema."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.models import Device, Extension
from pbx.secrets import encrypt_secret, generate_pin, generate_secret
from tenants.actions import record
from tenants.models import Account, User


@transaction.atomic
def do_create_extension(
    account: Account, *, number: str, name: str, actor: User | None = None, **fields
) -> Extension:
    with schema_context(account.schema_name):
        if Extension.objects.count() >= account.max_extensions:
            raise ValidationError(
                {"number": [f"{account.name} has reached its limit of {account.max_extensions} "
                            "extensions."]}
            )
        if phonenumbers.is_emergency_number(number, account.country):
            raise ValidationError({"number": [f"{number} is an emergency number in {account.country}."]})
        if fields.get("voicemail_enabled", True) and not fields.get("voicemail_pin"):
            # mod_voicemail lets an empty PIN in by default: never leave a box without one.
            fields["voicemail_pin"] = generate_pin(avoid=number)
        extension = Extension(number=number, name=name, **fields)
        extension.full_clean()
        extension.save()
    record(actor, account, "extension.create", number=number, name=name)
    return extension


@transaction.atomic
def do_add_device(
    account: Account, extension: Extension, *, username: str | None = None,
    secret: str | None = None, actor: User | None = None, **fields
) -> tuple[Device, str]:
    """Add a SIP credential to an extension. Returns the device and its secret, which is
    shown once (it is stored encrypted). The first device's username defaults to the
    extension number, later ones to <number>-<n>."""
    secret = secret or generate_secret()
    with schema_context(account.schema_name):
        if username is None:
            taken = set(Device.objects.filter(username__startswith=extension.number)
                        .values_list("username", flat=True))
            username = next(
                name for name in [extension.number, *(f"{extension.number}-{n}" for n in range(2, 100))]
                if name not in taken
            )
        device = Device(extension=extension, username=username,
                        secret_encrypted=encrypt_secret(secret), **fields)
        device.full_clean()
        device.save()
    record(actor, account, "device.create", username=username, extension=extension.number)
    return device, secret
