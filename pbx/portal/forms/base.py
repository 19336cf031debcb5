"""The portal's form base: model-declared fields, with every destination column chosen
through the one destination picker (``pbx.forms.destinations``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.urls import reverse_lazy

from pbx.forms.destinations import DestinationFormField
from pbx.models.destinations import DestinationField
from switchboard.views.forms import ActionForm

DESTINATION_OPTIONS_URL = reverse_lazy("portal:destination-options")


class PortalForm(ActionForm):
    """``Meta.destination_kinds`` (field → kinds) narrows a picker's kinds where the
    action allows fewer than all."""

    @classmethod
    def formfield_for(cls, db_field: models.Field, **kwargs: Any) -> forms.Field | None:
        if isinstance(db_field, DestinationField):
            kinds = getattr(getattr(cls, "Meta", None), "destination_kinds", {}).get(db_field.name)
            return DestinationFormField(kinds=kinds, options_url=DESTINATION_OPTIONS_URL,
                                        label=db_field.verbose_name.capitalize(),
                                        help_text=db_field.help_text)
        return db_field.formfield(**kwargs)
