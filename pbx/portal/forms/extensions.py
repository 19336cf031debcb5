from __future__ import annotations

from django import forms

from pbx.models import Device, Extension
from pbx.portal.forms.base import PortalForm


class ExtensionForm(PortalForm):
    voicemail_pin = forms.CharField(
        required=False, label="New voicemail PIN", max_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text="Leave empty to keep the current PIN (a new extension gets a random one).",
    )

    class Meta:
        model = Extension
        fields = ("number", "name", "email", "enabled", "call_permission", "ring_seconds", "call_waiting",
                  "voicemail_enabled", "outbound_caller_id_name", "outbound_caller_id_number",
                  "do_not_disturb", "forward_all", "forward_all_to", "forward_busy", "forward_busy_to",
                  "forward_no_answer", "forward_no_answer_to", "forward_unregistered",
                  "forward_unregistered_to")


class DeviceForm(PortalForm):
    class Meta:
        model = Device
        fields = ("label", "vendor", "model", "mac_address", "enabled")
