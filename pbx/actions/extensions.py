"""Extensions and their devices (SIP credentials). Only the account's admins (or an
ancestor's) write them; ``actor`` None is the platform itself (demo data, a phone's
feature code)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from common.secrets import encrypt_secret, generate_secret
from pbx.actions.checks import refuse_if_used
from pbx.actions.common import changed, only
from pbx.actions.crud import authorize
from pbx.actions.endusers import unbind_extension
from pbx.actions.forwarding import (
    FORWARD_FIELDS,
    ROUTING_FIELDS,
    check_extension_routing,
    goes_with,
    renumber_box,
)
from pbx.actions.queues import extension_changed, forget_extension
from pbx.actions.voicemail import apply_extension_voicemail
from pbx.models import Device, Extension, VoicemailBox
from pbx.numbering import refuse_taken
from pbx.signals import IndexScope, voicemail_boxes_deleted
from tenants.actions import record
from tenants.models import Account, Role, User

EXTENSION_FIELDS = (
    "name", "email", "outbound_caller_id_name", "outbound_caller_id_number", "language",
    "timezone", "ring_seconds", "voicemail_enabled", "call_permission", "allow_premium_rate",
    "hidden_from_directory", "disallow_dial_by_extension", "call_waiting", "call_groups", "enabled",
    *ROUTING_FIELDS,
)
DEVICE_FIELDS = ("label", "mac_address", "vendor", "model", "enabled")
# What an employee changes on their own extension (My phone); everything else, their
# call permission above all, stays the admin's.
END_USER_FIELDS = (*FORWARD_FIELDS, "do_not_disturb")


@transaction.atomic
def do_create_extension(
    account: Account, *, number: str, name: str, actor: User | None = None, ip: str | None = None,
    voicemail_pin: str | None = None, **fields
) -> Extension:
    """A new extension and, with voicemail on (the default), its box, whose PIN is
    ``voicemail_pin`` or a random one (mod_voicemail would let an empty PIN in)."""
    authorize(actor, account)
    only(fields, EXTENSION_FIELDS)
    with schema_context(account.schema_name):
        if Extension.objects.count() >= account.max_extensions:
            raise ValidationError(
                {"number": [f"{account.name} has reached its limit of {account.max_extensions} "
                            "extensions."]}
            )
        refuse_taken(number, account=account)
        if VoicemailBox.objects.filter(number=number).exists():
            # Its box would take the number, which FreeSWITCH looks boxes up by.
            raise ValidationError({"number": [f"{number} is a voicemail box's number."]})
        extension = Extension(number=number, name=name, **fields)
        extension.full_clean()
        extension.save()
        check_extension_routing(account, extension, fields)
        apply_extension_voicemail(extension, voicemail_pin)
    record(actor, account, "extension.create", ip, number=number, name=name)
    changed(account, index=IndexScope.extension(extension.pk))
    return extension


@transaction.atomic
def do_update_extension(account: Account, extension: Extension, *, actor: User | None = None,
                        ip: str | None = None, voicemail_pin: str | None = None, **fields) -> Extension:
    """Voicemail off keeps the box and its messages (calls no longer go there); on again
    reuses it. ``voicemail_pin`` sets the box's PIN. The extension's own end user may
    change its forwards and do-not-disturb, nothing else."""
    authorize(actor, account, extension_pk=extension.pk)
    if actor is not None and actor.role == Role.END_USER:
        only({**fields, **({"voicemail_pin": voicemail_pin} if voicemail_pin else {})}, END_USER_FIELDS)
    only(fields, (*EXTENSION_FIELDS, "number"))
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        old_number = extension.number
        renamed = fields.get("name", extension.name) != extension.name
        if fields.get("number", old_number) != old_number:
            # Routes name the extension by primary key, so renumbering breaks none.
            refuse_taken(fields["number"], exclude=extension, account=account)
        for name, value in fields.items():
            setattr(extension, name, value)
        extension.full_clean()
        check_extension_routing(account, extension, fields)
        extension.save()
        if extension.number != old_number:
            renumber_box(extension)
        if extension.number != old_number or "enabled" in fields:
            extension_changed(account, extension)  # its queue agents' contacts and statuses
        apply_extension_voicemail(extension, voicemail_pin, renamed=renamed)
        usernames = list(extension.devices.values_list("username", flat=True))
    record(actor, account, "extension.update", ip, number=extension.number,
           fields=sorted([*fields, *(["voicemail_pin"] if voicemail_pin else [])]),
           **({"old_number": old_number} if extension.number != old_number else {}))
    # Disabling an extension disables its devices' credentials in effect.
    changed(account, usernames if "enabled" in fields else None, index=IndexScope.extension(extension.pk),
            ended=usernames if not extension.enabled else None)
    return extension


@transaction.atomic
def do_delete_extension(account: Account, extension: Extension, *, actor: User | None = None,
                        ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        refuse_if_used(extension, account=account, ignore=goes_with(extension))
        box = VoicemailBox.objects.filter(extension=extension).first()
        if box is not None:
            refuse_if_used(box, account=account, ignore=goes_with(extension))
        usernames = list(extension.devices.values_list("username", flat=True))
        number, pk = extension.number, extension.pk
        forget_extension(account, extension)  # it leaves its call queues (cascade)
        unbind_extension(account, extension.pk, actor=actor, ip=ip)  # its employee's login
        extension.delete()  # its box goes with it (one-to-one, cascade)
    record(actor, account, "extension.delete", ip, number=number)
    # Its call blocks, if it had any of its own, went with it (the account's facts).
    changed(account, usernames, index=IndexScope.extension(pk) | IndexScope.BLOCKS, ended=usernames)
    if box is not None:
        voicemail_boxes_deleted.send(sender=VoicemailBox, account=account,
                                     domain=account.primary_domain_name, boxes=[box.number])


@transaction.atomic
def do_add_device(
    account: Account, extension: Extension, *, username: str | None = None,
    secret: str | None = None, actor: User | None = None, ip: str | None = None, **fields
) -> tuple[Device, str]:
    """Add a SIP credential to an extension. Returns the device and its secret, which is
    shown once (it is stored encrypted). The first device's username defaults to the
    extension number, later ones to <number>-<n>."""
    authorize(actor, account)
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
    record(actor, account, "device.create", ip, username=username, extension=extension.number)
    changed(account, [username], index=IndexScope.extension(extension.pk))
    return device, secret


@transaction.atomic
def do_update_device(account: Account, device: Device, *, actor: User | None = None,
                     ip: str | None = None, new_secret: str | None = None, rotate_secret: bool = False,
                     **fields) -> tuple[Device, str | None]:
    """Change a device; with ``rotate_secret`` (or ``new_secret``) give it a new SIP
    secret, returned once."""
    authorize(actor, account)
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
    record(actor, account, "device.update", ip, username=device.username,
           fields=sorted(fields) + (["secret"] if secret else []))
    # A phone of a device turned off or given a new secret is registered no longer.
    changed(account, [device.username], index=IndexScope.extension(device.extension_id),
            ended=[device.username] if secret is not None or not device.enabled else None)
    return device, secret


@transaction.atomic
def do_remove_device(account: Account, device: Device, *, actor: User | None = None,
                     ip: str | None = None) -> None:
    authorize(actor, account)
    with schema_context(account.schema_name):
        device = Device.objects.get(pk=device.pk)
        username, extension_pk = device.username, device.extension_id
        device.delete()
    record(actor, account, "device.delete", ip, username=username)
    changed(account, [username], index=IndexScope.extension(extension_pk), ended=[username])
