"""Phone numbers (DIDs). They live in the public schema because an inbound carrier call
names only the dialed number: this table is the index from a DID to its tenant."""

from __future__ import annotations

from django.db import models

from tenants.validators import validate_e164


class PhoneNumber(models.Model):
    e164 = models.CharField("number", max_length=16, unique=True, validators=[validate_e164])
    # Null: in the master's pool, not yet assigned to any account.
    account = models.ForeignKey("tenants.Account", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="numbers")
    # Where calls to the number go: a destination of the owning tenant (pbx.models.
    # destinations, ``kind[:ref]``), read by the dialplan in the same query that finds
    # the tenant. Empty: not routed.
    route = models.CharField(max_length=40, blank=True, default="")
    caller_id_name = models.CharField(max_length=50, blank=True)
    # Callers without a ten-digit caller ID must key one in before the call goes on.
    privacy_screening = models.BooleanField(default=False)
    # A pbx.MohGroup of the owning tenant (another schema, so no foreign key).
    moh_group_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["e164"]

    def __str__(self) -> str:
        return self.e164
