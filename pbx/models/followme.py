"""Find-me/follow-me (seeds 000-003): an extension's calls ring an ordered list of steps,
each ringing one or more targets at once, before a fallback."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pbx.models.destinations import DestinationField
from pbx.models.extensions import Extension
from pbx.models.media import MohGroup
from pbx.models.schedules import Schedule


class FollowMe(models.Model):
    extension = models.OneToOneField(Extension, on_delete=models.CASCADE, related_name="follow_me")
    enabled = models.BooleanField(default=True)
    record_name = models.BooleanField(default=False, help_text="Ask callers for their name and "
                                                               "announce it to whoever answers.")
    offer_voicemail = models.BooleanField(default=False, help_text="Between steps, offer the caller "
                                                                   "to leave a message (press 1).")
    ignore_busy = models.BooleanField(default=False, help_text="A busy target does not end its step.")
    active_hours = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.PROTECT,
                                     help_text="Outside its open hours the steps are skipped.")
    moh_group = models.ForeignKey(MohGroup, null=True, blank=True, on_delete=models.PROTECT,
                                  help_text="Callers hear this instead of ringback.")
    fallback = DestinationField(help_text="After the last step; empty: the extension's voicemail.")

    def __str__(self) -> str:
        return f"Follow-me for {self.extension}"


class FollowMeStep(models.Model):
    follow_me = models.ForeignKey(FollowMe, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    ring_seconds = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    confirm = models.BooleanField(default=True, help_text="External numbers must press 1 to take "
                                                           "the call, so their voicemail cannot.")

    class Meta:
        ordering = ["follow_me", "position", "id"]

    def __str__(self) -> str:
        return f"Step {self.position} of {self.follow_me}"


class FollowMeTarget(models.Model):
    step = models.ForeignKey(FollowMeStep, on_delete=models.CASCADE, related_name="targets")
    destination = DestinationField(blank=False, help_text="An extension or an external number.")

    class Meta:
        ordering = ["step", "id"]

    def __str__(self) -> str:
        return self.destination
