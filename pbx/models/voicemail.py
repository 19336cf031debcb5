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
