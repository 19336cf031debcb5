"""Ring groups: one number that rings several extensions or outside numbers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pbx.models.base import Numbered
from pbx.models.destinations import DestinationField
from pbx.models.media import MohGroup
from tenants.validators import validate_printable


class RingStrategy(models.TextChoices):
    SIMULTANEOUS = "simultaneous", "All at once"
    IN_ORDER = "in_order", "One after another, in order"
    RANDOM = "random", "One after another, in random order"


class RingGroup(Numbered):
    strategy = models.CharField(max_length=16, choices=RingStrategy.choices,
                                default=RingStrategy.SIMULTANEOUS)
    ring_seconds = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(5), MaxValueValidator(300)],
        help_text="How long all members ring (all at once), or each member unless it has its own.",
    )
    repeat = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(5)], help_text="Ring the members again this many times.",
    )
    fallback = DestinationField(help_text="Where unanswered calls go; empty hangs up.")
    caller_id_name_prefix = models.CharField(max_length=20, blank=True, validators=[validate_printable])
    pickup_code = models.CharField(
        max_length=8, blank=True, help_text="Dial this (e.g. *8 + group number) to answer a ringing member.",
    )
    moh_group = models.ForeignKey(MohGroup, null=True, blank=True, on_delete=models.PROTECT,
                                  help_text="Callers hear this instead of ringback.")


class RingGroupMember(models.Model):
    group = models.ForeignKey(RingGroup, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField(default=0)
    destination = DestinationField(blank=False, help_text="An extension or an external number.")
    ring_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(300)],
        help_text="In order: how long this member rings; empty uses the group's.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "position", "id"]

    def __str__(self) -> str:
        return f"{self.group.number}: {self.destination}"
