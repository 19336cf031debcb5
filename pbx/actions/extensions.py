"""Extensions and their devices (SIP credentials)."""
from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.common import changed, only
from pbx.models import Device, Extension, VoicemailBox
from pbx.secrets import encrypt_secret, generate_pin, generate_secret
from tenants.actions import record
from tenants.models import Account, User

EXTENSION_FIELDS = (
    "name", "email", "outbound_caller_id_name", "outbound_caller_id_number", "language",
    "timezone", "ring_seconds", "voicemail_enabled", "voicemail_pin", "call_permission",
    "hidden_from_directory", "disallow_dial_by_extension", "call_waiting", "call_groups", "enabled",
)
DEVICE_FIELDS = ("label", "mac_address", "vendor", "model", "enabled")


@transaction.atomic
def do_create_extension(
    account: Account, *, number: str, name: str, actor: User | None = None, **fields
) -> Extension:
    only(fields, EXTENSION_FIELDS)
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
        if extension.voicemail_enabled:
            VoicemailBox.objects.create(number=number, name=name, extension=extension,
                                        pin=extension.voicemail_pin)
    record(actor, account, "extension.create", number=number, name=name)
    changed(account)
    return extension


@transaction.atomic
def do_update_extension(account: Account, extension: Extension, *, actor: User | None = None,
                        **fields) -> Extension:
    only(fields, EXTENSION_FIELDS)
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        for name, value in fields.items():
            setattr(extension, name, value)
        if extension.voicemail_enabled and not extension.voicemail_pin:
            raise ValidationError({"voicemail_pin": ["A voicemail box needs a PIN."]})
        extension.full_clean()
        extension.save()
        usernames = list(extension.devices.values_list("username", flat=True))
    record(actor, account, "extension.update", number=extension.number, fields=sorted(fields))
    # Disabling an extension disables its devices' credentials in effect.
    changed(account, usernames if "enabled" in fields else None)
    return extension


@transaction.atomic
def do_delete_extension(account: Account, extension: Extension, *, actor: User | None = None) -> None:
    with schema_context(account.schema_name):
        extension = Extension.objects.get(pk=extension.pk)
        usernames = list(extension.devices.values_list("username", flat=True))
        number = extension.number
        extension.delete()
    record(actor, account, "extension.delete", number=number)
    changed(account, usernames)


@transaction.atomic
def do_add_device(
    account: Account, extension: Extension, *, username: str | None = None,
    secret: str | None = None, actor: User | None = None, **fields
) -> tuple[Device, str]:
    """Add a SIP credential to an extension. Returns the device and its secret, which is
    shown once (it is stored encrypted). The first device's username defaults to the
    extension number, later ones to <number>-<n>."""
    only(fields, DEVICE_FIELDS)
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
    changed(account, [username])
    return device, secret


@transaction.atomic
def do_update_device(account: Account, device: Device, *, actor: User | None = None,
                     new_secret: str | None = None, rotate_secret: bool = False,
                     **fields) -> tuple[Device, str | None]:
    """Change a device; with ``rotate_secret`` (or ``new_secret``) give it a new SIP
    secret, returned once."""
    only(fields, DEVICE_FIELDS)
    secret = new_secret or (generate_secret() if rotate_secret else None)
    with schema_context(account.schema_name):
        device = Device.objects.select_for_update().get(pk=device.pk)
        for name, value in fields.items():
            setattr(device, name, value)
        if secret is not None:
            device.secret_encrypted = encrypt_secret(secret)
        device.full_clean()
        device.save()
    record(actor, account, "device.update", username=device.username,
           fields=sorted(fields) + (["secret"] if secret else []))
    changed(account, [device.username])
    return device, secret


@transaction.atomic
def do_remove_device(account: Account, device: Device, *, actor: User | None = None) -> None:
    with schema_context(account.schema_name):
        device = Device.objects.get(pk=device.pk)
        username = device.username
        device.delete()
    record(actor, account, "device.delete", username=username)
    changed(account, [username])
