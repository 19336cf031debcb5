"""Call blocking: applied before any other routing. A block is the whole account's
(``extension`` null: calls from outside to any of its numbers, and calls out from any of
its phones) or one extension's own (calls offered to that extension, and calls out
from it: pbx.routing)."""

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
    # Null: the whole account's block. An extension's own block (its employee manages it
    # on My phone) goes with the extension.
    extension = models.ForeignKey("pbx.Extension", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="call_blocks",
                                  help_text="The extension whose own block it is; empty: the account's.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pattern"]

    def __str__(self) -> str:
        return "Anonymous callers" if self.anonymous else self.pattern
