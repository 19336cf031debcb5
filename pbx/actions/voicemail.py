"""Voicemail boxes. mod_voicemail records and plays the messages; these rows are what it is
configured from. An extension's box is made with the extension (pbx.actions.extensions);
the functions here also make standalone boxes (a general mailbox, a department), change
boxes and their PINs, and delete boxes nothing routes to."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from common.secrets import generate_pin
from pbx.actions.common import changed, only
from pbx.actions.crud import authorize
from pbx.destinations import refuse_if_used
from pbx.models import Device, Extension, MediaStatus, Prompt, VoicemailBox
from pbx.models.voicemail import weak_pin_reason
from pbx.signals import IndexScope, voicemail_boxes_deleted
from tenants.actions import record
from tenants.models import Account, User

GREETING_FIELDS = ("greeting_unavailable", "greeting_busy", "greeting_name")
BOX_FIELDS = (
    "name", "email", "sms_email", "attach_audio", "delete_after_email", "keep_days", "announcement_only",
    "skip_instructions", "hidden_from_directory", "enabled", *GREETING_FIELDS,
)


def strong_pin(number: str) -> str:
    """A random PIN that passes the PIN rules for box ``number``."""
    while True:
        pin = generate_pin(avoid=number)
        if weak_pin_reason(pin, number) is None:
            return pin


def check_pin(pin: str, number: str, field: str = "pin") -> None:
    reason = weak_pin_reason(pin, number)
    if reason:
        raise ValidationError({field: [reason]})


def number_in_use(number: str, *, extension: Extension | None = None) -> str | None:
    """Why a box cannot be numbered ``number`` (current schema), or None. Boxes are not in
    the dialing plan (pbx.numbering), but FreeSWITCH looks them up in the directory as
    users, where a device's SIP username, then an extension's number, come first: a box
    there would never be found. ``extension``: the box's own, which shares its number."""
    extensions = Extension.objects.filter(number=number)
    devices = Device.objects.filter(username=number)
    if extension is not None:
        extensions, devices = extensions.exclude(pk=extension.pk), devices.exclude(extension=extension)
    if extensions.exists():
        return f"{number} is an extension's number."
    if devices.exists():
        return f"{number} is a phone's SIP username."
    return None


def _greetings(fields: dict[str, Any]) -> None:
    """Greetings are the tenant's own prompts, and FreeSWITCH can only play converted ones."""
    for name in GREETING_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if value in (None, ""):
            fields[name] = None
            continue
        pk = value.pk if isinstance(value, Prompt) else value
        prompt = Prompt.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if prompt is None:
            raise ValidationError({name: ["Choose one of this account's recordings."]})
        if prompt.status != MediaStatus.READY:
            raise ValidationError({name: [f"The recording “{prompt.name}” is not ready to play yet."]})
        fields[name] = prompt


def _save(box: VoicemailBox) -> None:
    box.full_clean()
    box.save()


def create_extension_box(extension: Extension, pin: str | None) -> VoicemailBox:
    """The box of ``extension`` (in the current schema), with ``pin`` or a new one. Errors
    name the extension's ``voicemail_pin`` field, as its form shows it."""
    if pin:
        check_pin(pin, extension.number, "voicemail_pin")
    box = VoicemailBox(number=extension.number, name=extension.name, extension=extension,
                       pin=pin or strong_pin(extension.number))
    _save(box)
    return box


@transaction.atomic
def do_create_voicemail_box(
    account: Account, *, number: str, name: str, pin: str | None = None,
    actor: User | None = None, ip: str | None = None, **fields,
) -> tuple[VoicemailBox, str]:
    """A standalone box (no extension): a general or shared mailbox that routes send calls
    to. Returns the box and its PIN (generated when not given)."""
    authorize(actor, account)
    only(fields, BOX_FIELDS)
    with schema_context(account.schema_name):
        clash = number_in_use(number)
        if clash or VoicemailBox.objects.filter(number=number).exists():
            raise ValidationError({"number": [clash or f"Voicemail box {number} already exists."]})
        if pin:
            check_pin(pin, number)
        pin = pin or strong_pin(number)
        _greetings(fields)
        box = VoicemailBox(number=number, name=name, pin=pin, **fields)
        _save(box)
    record(actor, account, "voicemail.create", ip, number=number, name=name)
    changed(account, index=IndexScope.BOXES)
    return box, pin


@transaction.atomic
def do_update_voicemail_box(account: Account, box: VoicemailBox, *, actor: User | None = None,
                            ip: str | None = None, number: str | None = None, **fields) -> VoicemailBox:
    """Change a box. A standalone box may be renumbered; an extension's box keeps its
    extension's number. The PIN is changed with ``do_set_voicemail_pin``."""
    authorize(actor, account)
    only(fields, BOX_FIELDS)
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.select_for_update().get(pk=box.pk)
        if number is not None and number != box.number:
            if box.extension_id is not None:
                raise ValidationError({"number": ["An extension's box has the extension's number."]})
            clash = number_in_use(number)
            if clash or VoicemailBox.objects.filter(number=number).exclude(pk=box.pk).exists():
                raise ValidationError({"number": [clash or f"Voicemail box {number} already exists."]})
            box.number = number
            fields_changed = ["number"]
        else:
            fields_changed = []
        _greetings(fields)
        for name, value in fields.items():
            setattr(box, name, value)
        _save(box)
    record(actor, account, "voicemail.update", ip, number=box.number,
           fields=sorted([*fields, *fields_changed]))
    changed(account, index=IndexScope.box(box))
    return box


@transaction.atomic
def do_set_voicemail_pin(account: Account, box: VoicemailBox, *, pin: str | None = None,
                         actor: User | None = None, ip: str | None = None) -> tuple[VoicemailBox, str]:
    """Set the box's PIN, or a new random one when ``pin`` is not given (a reset);
    returns the box and the PIN, which the audit log never holds. An extension's end
    user sets their own box's PIN (My phone)."""
    authorize(actor, account, extension_pk=box.extension_id)
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.select_for_update().get(pk=box.pk)
        # The stored row decides whose box it is, not the instance the caller passed.
        authorize(actor, account, extension_pk=box.extension_id)
        if pin:
            check_pin(pin, box.number)
        box.pin = pin or strong_pin(box.number)
        _save(box)
    record(actor, account, "voicemail.pin", ip, number=box.number, reset=not pin)
    changed(account, index=IndexScope.box(box))
    return box, box.pin


@transaction.atomic
def do_delete_voicemail_box(account: Account, box: VoicemailBox, *, actor: User | None = None,
                            ip: str | None = None) -> None:
    """Delete a box and, with it, what FreeSWITCH serves for it. Refused while a route
    (a phone number, an IVR key, a forward, ...) sends calls there, and while its
    extension still sends unanswered calls there."""
    authorize(actor, account)
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.select_related("extension").get(pk=box.pk)
        refuse_if_used(box, account=account)
        if box.extension is not None and box.extension.voicemail_enabled:
            raise ValidationError(
                f"Extension {box.extension.number} sends unanswered calls to this box: "
                "turn its voicemail off first.", code="in_use",
            )
        number = box.number
        box.delete()
    record(actor, account, "voicemail.delete", ip, number=number)
    changed(account, index=IndexScope.box(box))
    voicemail_boxes_deleted.send(sender=VoicemailBox, account=account,
                                 domain=account.primary_domain_name, boxes=[number])


def apply_extension_voicemail(extension: Extension, pin: str | None, *, renamed: bool = False) -> None:
    """After an extension was saved (current schema): it has a box whenever voicemail is
    on (an old box is reused, messages and all), ``pin`` becomes the box's PIN, and a
    renamed extension's box follows the name."""
    box = VoicemailBox.objects.filter(extension=extension).first()
    if box is None:
        if extension.voicemail_enabled:
            create_extension_box(extension, pin)
        elif pin:
            raise ValidationError({"voicemail_pin": ["Turn voicemail on to give it a PIN."]})
        return
    if pin:
        check_pin(pin, box.number, "voicemail_pin")
        box.pin = pin
    if renamed:
        box.name = extension.name
    if pin or renamed:
        _save(box)
