"""Voicemail boxes. FreeSWITCH's mod_voicemail records and plays the messages; these rows
are what it is configured from (directory params and voicemail.conf over xml_curl)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pbx.models.base import Numbered
from pbx.models.extensions import Extension, validate_pin
from pbx.models.media import Prompt

MAX_KEEP_DAYS = 180
_DIGITS = "0123456789"


def weak_pin_reason(pin: str, number: str = "") -> str | None:
    """Why ``pin`` is too easy to guess for box ``number``, or None. Callers try the box
    number, one digit repeated and straight runs first."""
    if not pin.isdigit() or not 4 <= len(pin) <= 10:
        return "A PIN has 4 to 10 digits."
    if number and pin == number:
        return "The PIN must not be the box number."
    if len(set(pin)) == 1:
        return "The PIN must not be one digit repeated."
    if pin in _DIGITS or pin in _DIGITS[::-1]:
        return "The PIN must not be a straight run of digits such as 1234 or 4321."
    return None


class VoicemailBox(Numbered):
    # The extension whose unanswered calls land here; empty for a shared/general box.
    extension = models.OneToOneField(Extension, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="voicemail_box")
    pin = models.CharField(max_length=10, validators=[validate_pin])
    greeting_unavailable = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                             related_name="+")
    greeting_busy = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    greeting_name = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    email = models.EmailField(blank=True,
                              help_text="New messages are emailed here with the WAV attached.")
    sms_email = models.EmailField(
        blank=True, help_text="Notified without the attachment (an email-to-SMS address).",
    )
    attach_audio = models.BooleanField(
        default=True,
        help_text="Attach the recording to the email; off: the email links to the portal instead.",
    )
    delete_after_email = models.BooleanField(default=False)
    keep_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(MAX_KEEP_DAYS)],
        help_text=f"Messages are deleted after this many days (at most {MAX_KEEP_DAYS}).",
    )
    announcement_only = models.BooleanField(default=False, help_text="Play the greeting, take no message.")
    skip_instructions = models.BooleanField(default=False)
    hidden_from_directory = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)

    def clean(self) -> None:
        reason = weak_pin_reason(self.pin, self.number) if self.pin else None
        if reason:
            raise ValidationError({"pin": [reason]})
        if self.delete_after_email and not self.email:
            raise ValidationError({"delete_after_email": ["Messages can only be deleted after "
                                                          "emailing when an email address is set."]})


class VoicemailMessage(models.Model):
    """A message mod_voicemail recorded in a box: a mirror of the node's own index
    (``voicemail_msgs``), fed by the node manager from ``vm::maintenance`` events and
    reconciled from ``vm_list`` (fsnodes.voicemail_messages). The recording stays where
    the node wrote it (``file_path``); the web server reads it through a storage
    directory it shares with the nodes (settings.VOICEMAIL_STORAGE_DIR)."""

    class Folder(models.TextChoices):
        INBOX = "inbox", "Inbox"
        SAVED = "save", "Saved"

    box = models.ForeignKey(VoicemailBox, on_delete=models.CASCADE, related_name="messages")
    # mod_voicemail's message uuid: the uuid of the call that left it.
    uuid = models.CharField(max_length=64)
    caller_id_name = models.CharField(max_length=255, blank=True)
    caller_id_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(help_text="When the message was left.")
    duration = models.PositiveIntegerField(default=0, help_text="Length in seconds.")
    folder = models.CharField(max_length=32, default=Folder.INBOX)
    read_at = models.DateTimeField(null=True, blank=True)
    # Where the node wrote the recording (its own path; mapped to ours when read).
    file_path = models.CharField(max_length=255)
    node = models.CharField(max_length=100, blank=True, help_text="The node that recorded it.")
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes, once seen.")
    # The e-mail notification went out (a task run twice sends once).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["box", "uuid"], name="pbx_vm_message_box_uuid")]
        indexes = [models.Index(fields=["box", "-created_at"], name="pbx_vm_message_box_created")]

    def __str__(self) -> str:
        return f"{self.box.number}: {self.uuid}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
