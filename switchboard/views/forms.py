"""Forms for pages whose writes are actions: declared like a ModelForm (``Meta.model``,
``Meta.fields``: labels, help texts and choices come from the model) but never saving
anything -- the form checks the input's shape and the page hands ``cleaned_data`` to the
action, which validates the object and raises the errors shown on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.models import fields_for_model


class ActionFormMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        cls = super().__new__(mcs, name, bases, attrs)
        meta = getattr(cls, "Meta", None)
        if meta is not None and getattr(meta, "model", None) is not None:
            generated = fields_for_model(meta.model, fields=meta.fields,
                                         formfield_callback=cls.formfield_for)
            ordered = {field: generated[field] for field in meta.fields if generated.get(field) is not None}
            cls.base_fields = {**ordered, **cls.declared_fields}
        return cls


class ActionForm(forms.Form, metaclass=ActionFormMetaclass):
    """Subclasses declare ``class Meta: model, fields`` and any extra fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A label is its words only ("Number", not "Number:"): what screen readers say.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @staticmethod
    def formfield_for(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
        return db_field.formfield(**kwargs)
