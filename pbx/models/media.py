"""Recorded sound a tenant uploads: prompts (greetings, IVR menus, schedule
announcements) and music-on-hold groups. The upload is kept as sent; FreeSWITCH plays
the converted copies (mono WAV at 8 and 16 kHz, made in a Celery task), so a
status tells whether they exist yet."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.db import connection, models

from tenants.validators import validate_printable


class MediaStatus(models.TextChoices):
    PENDING = "pending", "Converting"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be converted"


def media_upload_path(instance: models.Model, filename: str) -> str:
    """Under the tenant's own folder, never under a name the uploader chose."""
    kind = type(instance).__name__.lower()
    return f"{connection.schema_name}/{kind}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:8]}"


class MediaFile(models.Model):
    name = models.CharField(max_length=100, validators=[validate_printable])
    original_name = models.CharField(max_length=255, blank=True)
    upload = models.FileField(max_length=255, blank=True, upload_to=media_upload_path)
    size_bytes = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=MediaStatus.choices, default=MediaStatus.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Prompt(MediaFile):
    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="pbx_prompt_unique_name")]

    def __str__(self) -> str:
        return self.name


class MohGroup(models.Model):
    name = models.CharField(max_length=50, unique=True, validators=[validate_printable])
    shuffle = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MohTrack(MediaFile):
    group = models.ForeignKey(MohGroup, on_delete=models.CASCADE, related_name="tracks")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["group", "position", "id"]

    def __str__(self) -> str:
        return f"{self.group}: {self.name}"
