"""Shapes several PBX objects share."""

from __future__ import annotations

from django.db import models

from pbx.models.extensions import validate_extension_number
from tenants.validators import validate_printable


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Numbered(Timestamped):
    """Something callers reach by an internal number (a voicemail box, a ring group, a
    conference room). The tenant's numbers are one plan: the actions refuse a number
    already used by another kind of object."""

    number = models.CharField(max_length=6, unique=True, validators=[validate_extension_number])
    name = models.CharField(max_length=100, validators=[validate_printable])

    class Meta:
        abstract = True
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"
