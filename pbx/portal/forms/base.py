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
        field = db_field.formfield(**kwargs)
        if (field is not None and "label" not in kwargs
                and db_field.verbose_name == db_field.name.replace("_", " ")):
            field.label = readable_label(db_field.verbose_name)
        return field


# A label Django makes from a field's name keeps every word in lower case.
LABEL_PHRASES = {"moh group": "hold music"}
LABEL_WORDS = {"sms": "SMS", "mac": "MAC", "id": "ID", "pin": "PIN", "url": "URL"}


def readable_label(name: str) -> str:
    """'sms email' → 'SMS email', 'moh group' → 'Hold music', 'caller id name prefix' →
    'Caller ID name prefix': the label of a field whose verbose name is its own name."""
    for phrase, better in LABEL_PHRASES.items():
        name = name.replace(phrase, better)
    text = " ".join(LABEL_WORDS.get(word, word) for word in name.split(" "))
    return text[:1].upper() + text[1:]
