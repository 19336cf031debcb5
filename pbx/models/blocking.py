"""Call blocking: applied before any other routing."""

from __future__ import annotations

from django.db import models

from tenants.validators import validate_printable


class BlockDirection(models.TextChoices):
    INCOMING = "incoming", "Incoming"
    OUTGOING = "outgoing", "Outgoing"
    BOTH = "both", "Both"


class CallBlock(models.Model):
    # A number in E.164, or a prefix pattern ending in "*" (+1900*); empty with
    # ``anonymous`` blocks callers who withhold their number.
    pattern = models.CharField(max_length=20, blank=True)
    anonymous = models.BooleanField(default=False)
    direction = models.CharField(max_length=8, choices=BlockDirection.choices,
                                 default=BlockDirection.INCOMING)
    comment = models.CharField(max_length=200, blank=True, validators=[validate_printable])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pattern"]

    def __str__(self) -> str:
        return "Anonymous callers" if self.anonymous else self.pattern
