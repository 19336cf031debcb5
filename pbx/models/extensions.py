"""Extensions (a person or a place that can be called) and their devices (the SIP
credentials phones register with). Both live in the tenant's schema, so 1001 exists in
every tenant without clash."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from pbx.models.destinations import DestinationField
from tenants.validators import validate_e164, validate_printable

validate_extension_number = RegexValidator(
    r"^\d{3,6}$", "An extension number has 3 to 6 digits.", code="invalid_number"
)
validate_sip_username = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "Use letters, digits, dots, hyphens and underscores (at most 64).",
    code="invalid_username",
)
validate_group_name = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,31}$", "Use lower-case letters, digits, - and _ (at most 32).",
    code="invalid_group",
)
validate_pin = RegexValidator(r"^\d{4,10}$", "A PIN has 4 to 10 digits.", code="invalid_pin")


class CallPermission(models.TextChoices):
    INTERNAL = "internal", "Internal calls only"
    LOCAL = "local", "Local"
    DOMESTIC = "domestic", "Local and long distance"
    INTERNATIONAL = "international", "Local, long distance and international"


class Extension(models.Model):
    number = models.CharField(max_length=6, unique=True, validators=[validate_extension_number])
    name = models.CharField(max_length=100, validators=[validate_printable])
    email = models.EmailField(blank=True)
    outbound_caller_id_name = models.CharField(max_length=50, blank=True, validators=[validate_printable])
    outbound_caller_id_number = models.CharField(
        max_length=16, blank=True, validators=[validate_e164],
        help_text="E.164; empty uses the account's default outbound caller ID.",
    )
    language = models.CharField(max_length=8, blank=True, help_text="Empty: the account's.")
    timezone = models.CharField(max_length=64, blank=True, help_text="Empty: the account's.")
    ring_seconds = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(5), MaxValueValidator(300)]
    )
    # Off: calls no longer go to the box, which keeps its messages (pbx.VoicemailBox,
    # where the PIN lives) for when it is turned on again.
    voicemail_enabled = models.BooleanField(default=True)
    call_permission = models.CharField(
        max_length=16, choices=CallPermission.choices, default=CallPermission.DOMESTIC
    )
    # Revenue-share numbers (carriers.numbering.PREMIUM_TYPES) besides the permission's
    # classes, and only where the account allows them too (Account.allow_premium_rate).
    allow_premium_rate = models.BooleanField(
        "may call premium-rate numbers", default=False,
        help_text="Premium-rate and other revenue-share numbers (+1 900, UK 09 and 070, ...), "
                  "within the call permission; the account must allow them too.",
    )
    hidden_from_directory = models.BooleanField(default=False)
    disallow_dial_by_extension = models.BooleanField(default=False)
    call_waiting = models.BooleanField(default=True)
    call_groups = ArrayField(
        models.CharField(max_length=32, validators=[validate_group_name]), default=list, blank=True,
        help_text="Groups this extension rings in (group_call) and picks up calls for.",
    )
    # Call forwarding (seed 000): each condition has its own destination and switch, so
    # a user can turn one off without losing where it pointed.
    forward_all = models.BooleanField(default=False)
    forward_all_to = DestinationField()
    forward_busy = models.BooleanField(default=False)
    forward_busy_to = DestinationField()
    forward_no_answer = models.BooleanField(default=False)
    forward_no_answer_to = DestinationField()
    forward_unregistered = models.BooleanField(default=False)
    forward_unregistered_to = DestinationField()
    do_not_disturb = models.BooleanField(
        default=False, help_text="Callers go to voicemail, or to the busy forward when it is on.",
    )
    # Emergency calls from this extension present the callback number and the address
    # is what the provider registers with the emergency service for it.
    emergency_address = models.TextField(blank=True, validators=[validate_printable])
    emergency_callback_number = models.CharField(max_length=16, blank=True,
                                                 validators=[validate_e164])
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    FORWARDS = ("all", "busy", "no_answer", "unregistered")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Device(models.Model):
    extension = models.ForeignKey(Extension, on_delete=models.CASCADE, related_name="devices")
    username = models.CharField(max_length=64, unique=True, validators=[validate_sip_username])
    secret_encrypted = models.TextField()
    label = models.CharField(max_length=50, blank=True, help_text="e.g. Desk phone, Mobile app")
    mac_address = models.CharField(max_length=17, blank=True)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username
