from __future__ import annotations

from django import forms

from pbx.forms.destinations import DestinationFormField
from pbx.portal.forms.base import DESTINATION_OPTIONS_URL
from switchboard.views.forms import ActionForm


class PhoneNumberForm(ActionForm):
    """Where a number's calls go and how they are shown (the number itself is the
    provider's to assign or take back)."""

    route = DestinationFormField(options_url=DESTINATION_OPTIONS_URL, label="Calls go to",
                                 help_text="Nowhere: calls are refused as to an unallocated number.")
    caller_id_name = forms.CharField(label="Caller ID name", max_length=50, required=False,
                                     help_text="Shown with its calls, before the caller's name.")
    privacy_screening = forms.BooleanField(
        label="Privacy screening", required=False,
        help_text="Callers without a ten-digit caller ID must key one in.")
