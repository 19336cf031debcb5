from __future__ import annotations

from typing import Any

from pbx.actions.checks import ROUTE_KINDS
from pbx.actions.ivr import KEY_KINDS
from pbx.forms.destinations import DestinationFormField
from pbx.models import Ivr
from pbx.portal.forms.base import DESTINATION_OPTIONS_URL, PortalForm
from switchboard.views.forms import ActionForm

# The keys a caller can press, and the form field of each ("*" and "#" are no names).
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
KEY_FIELD = {**{key: f"key_{key}" for key in KEYS[:10]}, "*": "key_star", "#": "key_hash"}


class IvrForm(PortalForm):
    class Meta:
        model = Ivr
        fields = ("name", "number", "greeting", "invalid_prompt", "timeout_prompt", "attendant_timeout",
                  "digit_timeout", "max_attempts", "dial_by_extension", "exit_destination")
        destination_kinds = {"exit_destination": ROUTE_KINDS}


class IvrKeysForm(ActionForm):
    """One destination picker per key; a key left at "nowhere" is not in the menu."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, name in KEY_FIELD.items():
            self.fields[name] = DestinationFormField(kinds=KEY_KINDS, options_url=DESTINATION_OPTIONS_URL,
                                                     label=f"Key {key}")

    def options(self) -> dict[str, str]:
        """key → destination, as ``do_set_ivr_options`` takes them."""
        return {key: self.cleaned_data[name] for key, name in KEY_FIELD.items()}
