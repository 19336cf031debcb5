"""Celery tasks of the PBX app."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from pbx import media


@shared_task(name="pbx.convert_media", ignore_result=True)
def convert_media(schema_name: str, model_label: str, pk: int) -> None:
    """Convert an uploaded prompt or hold-music track (scheduled by the upload's action
    once it commits)."""
    if model_label not in media.MEDIA_MODELS:
        raise ValueError(f"not a media model: {model_label!r}")
    with schema_context(schema_name):
        media.convert_and_record(model_label, pk)
