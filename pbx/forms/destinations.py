"""The destination picker: one form field for every place a route is chosen (a forward,
a ring group's fallback, a member, an attendant's key, a number's route).

It shows a kind select (the kinds the dialplan knows, ``DestinationKind``), an object
select of that kind's objects in the tenant's schema, and a number box for an external
number; it submits the one stored form ``kind[:ref]``. Without JavaScript the object
select lists every kind's objects in groups; with htmx, choosing a kind fetches the
select for that kind only (``options_url``). Whether the object exists, may be used here,
or closes a loop is the actions' check, not the picker's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from pbx.destinations import choices
from pbx.models.destinations import OBJECT_KINDS, Destination, DestinationKind

KIND_SUFFIX, OBJECT_SUFFIX, NUMBER_SUFFIX = "_kind", "_object", "_number"


def object_choices(kind: str) -> list[tuple[str, str]]:
    """The objects of ``kind`` in this schema as (stored value, label)."""
    if kind not in OBJECT_KINDS:
        return []
    return [option for _, options in choices(kinds=[kind]) for option in options]


class DestinationPicker(forms.Widget):
    template_name = "pbx/widgets/destination_picker.html"
    # The field's label becomes the legend of a fieldset holding the parts.
    use_fieldset = True

    def __init__(self, kinds: Iterable[str] | None = None, options_url: str = "",
                 attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.kinds = list(kinds) if kinds is not None else list(DestinationKind.values)
        self.options_url = options_url

    def split(self, value: str) -> tuple[str, str, str]:
        """A stored value as (kind, object value, external number)."""
        if not value:
            return "", "", ""
        kind, _, ref = str(value).partition(":")
        if kind == DestinationKind.EXTERNAL:
            return kind, "", ref
        return kind, str(value) if kind in OBJECT_KINDS else "", ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        kind, chosen, number = self.split(value or "")
        base_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        kinds = [(k, DestinationKind(k).label) for k in self.kinds]
        groups = [(label, options) for label, options in choices(kinds=[k for k in self.kinds
                                                                        if k in OBJECT_KINDS])]
        if kind in OBJECT_KINDS:
            groups = [(DestinationKind(kind).label, object_choices(kind))]
        context["picker"] = {
            "name": name, "id": base_id, "kind": kind, "object": chosen, "number": number,
            "kinds": kinds, "groups": groups, "options_url": self.options_url,
            "kind_name": name + KIND_SUFFIX, "object_name": name + OBJECT_SUFFIX,
            "number_name": name + NUMBER_SUFFIX, "needs_object": kind in OBJECT_KINDS,
            "needs_number": kind == DestinationKind.EXTERNAL,
            "disabled": context["widget"]["attrs"].get("disabled", False),
        }
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}{KIND_SUFFIX}" if id_ else id_

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        kind = data.get(name + KIND_SUFFIX, "")
        if not kind:
            return ""
        if kind in OBJECT_KINDS:
            chosen = data.get(name + OBJECT_SUFFIX, "")
            # An object of another kind (the select was not refreshed) is no choice.
            return chosen if chosen.startswith(f"{kind}:") else f"{kind}:"
        if kind == DestinationKind.EXTERNAL:
            return f"{kind}:{data.get(name + NUMBER_SUFFIX, '').strip().replace(' ', '')}"
        return kind

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name + KIND_SUFFIX not in data


class DestinationFormField(forms.CharField):
    """A destination chosen with the picker; the syntax is checked here (the model's own
    messages), the rest by the action."""

    widget = DestinationPicker

    def __init__(self, *, kinds: Iterable[str] | None = None, options_url: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.pop("max_length", None)
        kwargs["widget"] = DestinationPicker(kinds=kinds, options_url=options_url)
        super().__init__(**kwargs)
        self.kinds = self.widget.kinds

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        destination = Destination.parse(value)
        if destination.kind not in self.kinds:
            raise ValidationError("Choose one of the kinds offered.", code="kind_not_allowed")
        return str(destination)
