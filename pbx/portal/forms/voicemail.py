from __future__ import annotations

from django import forms

from pbx.models import VoicemailBox
from pbx.portal.forms.base import PortalForm


class VoicemailBoxForm(PortalForm):
    class Meta:
        model = VoicemailBox
        fields = ("number", "name", "email", "sms_email", "attach_audio", "enabled", "keep_days",
                  "delete_after_email",
                  "announcement_only", "skip_instructions", "hidden_from_directory", "greeting_unavailable",
                  "greeting_busy", "greeting_name")


class NewVoicemailBoxForm(VoicemailBoxForm):
    pin = forms.CharField(
        required=False, label="PIN", max_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text="Empty: a strong random PIN, shown once on the next page.",
    )
