"""Phone numbers (DIDs). They live in the public schema because an inbound carrier call
names only the dialed number: this table is the index from a DID to its tenant."""

from __future__ import annotations

from django.db import models

from tenants.validators import validate_e164


class PhoneNumber(models.Model):
    class RouteKind(models.TextChoices):
        NONE = "", "Not routed"
        EXTENSION = "extension", "Extension"
        VOICEMAIL = "voicemail", "Voicemail box"

    e164 = models.CharField("number", max_length=16, unique=True, validators=[validate_e164])
    # Null: in the master's pool, not yet assigned to any account.
    account = models.ForeignKey("tenants.Account", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="numbers")
    route_kind = models.CharField(max_length=16, choices=RouteKind.choices, blank=True, default="")
    route_target = models.CharField(max_length=32, blank=True)
    caller_id_name = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["e164"]

    def __str__(self) -> str:
        return self.e164
