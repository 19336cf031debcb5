"""Auto attendants (IVR menus), run by the call-control IVR app (seeds 002, 003)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from pbx.models.base import Timestamped
from pbx.models.destinations import DestinationField
from pbx.models.extensions import validate_extension_number
from pbx.models.media import Prompt
from tenants.validators import validate_printable


class Ivr(Timestamped):
    number = models.CharField(max_length=6, unique=True, blank=True, null=True,
                              validators=[validate_extension_number],
                              help_text="Optional: an internal number that reaches this menu.")
    name = models.CharField(max_length=100, unique=True, validators=[validate_printable])
    greeting = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", help_text="Empty: the default greeting.")
    invalid_prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    timeout_prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    attendant_timeout = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Seconds to wait for the first key after the greeting.",
    )
    digit_timeout = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Seconds to wait between the keys of an extension number.",
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Invalid keys or timeouts before the exit destination.",
    )
    dial_by_extension = models.BooleanField(default=True)
    exit_destination = DestinationField(help_text="Where the call goes after the last attempt; "
                                                  "empty hangs up.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


validate_key = RegexValidator(r"^[0-9*#]$", "A key is 0-9, * or #.", code="invalid_key")


class IvrOption(models.Model):
    ivr = models.ForeignKey(Ivr, on_delete=models.CASCADE, related_name="options")
    key = models.CharField(max_length=1, validators=[validate_key])
    destination = DestinationField(blank=False)

    class Meta:
        ordering = ["ivr", "key"]
        constraints = [models.UniqueConstraint(fields=["ivr", "key"], name="pbx_ivroption_unique_key")]

    def __str__(self) -> str:
        return f"{self.ivr}: {self.key}"
