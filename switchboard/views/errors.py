"""The actions' refusals shown on a form, in one place: a ValidationError keyed by field
goes on that field when the form has it, everything else above the form, in the
actions' own words (the API's ``switchboard.api.errors`` does the same for JSON)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def show_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Put ``error`` (raised by an action) on ``form``: each field's messages on the field
    of that name, the rest (fields the form does not show, errors of the whole object)
    as the form's non-field errors."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        if field != NON_FIELD_ERRORS and field in form.fields:
            form.add_error(field, messages)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            # An action's field the form does not show: still said, named so the person
            # knows what it is about.
            label = field.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {message}" for message in messages])
