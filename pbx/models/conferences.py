"""Conference rooms, entered through the call-control conference app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pbx.models.base import Numbered
from pbx.models.extensions import validate_pin
from pbx.models.media import MohGroup


class ConferenceRoom(Numbered):
    participant_pin = models.CharField(max_length=10, blank=True, validators=[validate_pin])
    moderator_pin = models.CharField(max_length=10, blank=True, validators=[validate_pin])
    music_while_alone = models.BooleanField(default=True)
    moh_group = models.ForeignKey(MohGroup, null=True, blank=True, on_delete=models.PROTECT)
    enter_exit_sounds = models.BooleanField(default=True)
    announce_count = models.BooleanField(default=True)
    max_members = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(2), MaxValueValidator(500)],
    )
    locked = models.BooleanField(default=False, help_text="Nobody new may join.")
    wait_for_moderator = models.BooleanField(default=False)
    record = models.BooleanField(default=False)

    def clean(self) -> None:
        if self.moderator_pin and self.moderator_pin == self.participant_pin:
            raise ValidationError({"moderator_pin": ["Use a PIN different from the participants'."]})
        if self.wait_for_moderator and not self.moderator_pin:
            raise ValidationError({"wait_for_moderator": ["Set a moderator PIN first."]})
