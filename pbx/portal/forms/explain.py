from __future__ import annotations

from django import forms


class ExplainForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    caller = forms.CharField(
        label="From", max_length=32, required=False,
        help_text="An extension's number for a call from inside, or the outside caller's number "
                  "(empty: anonymous) for a call to one of your phone numbers.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    dialed = forms.CharField(
        label="To", max_length=32,
        help_text="What is dialed: an extension, a feature code, an outside number, or one of your "
                  "phone numbers.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    at = forms.DateTimeField(
        label="When", required=False, help_text="In the account's time zone; empty: now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
