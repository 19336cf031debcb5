from __future__ import annotations

from rest_framework import serializers

from pbx.actions.extensions import DEVICE_FIELDS, EXTENSION_FIELDS
from pbx.models import Device, Extension
from pbx.models.extensions import validate_pin
from switchboard.api.serializers import ActionSerializer


class DeviceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "username", "label", "enabled"]


class ExtensionSerializer(ActionSerializer):
    voicemail_pin = serializers.CharField(
        write_only=True, required=False, validators=[validate_pin],
        help_text="Sets the voicemail box's PIN (never shown); on create, empty gives a random one.",
    )
    devices = DeviceSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Extension
        fields = ["id", "number", *EXTENSION_FIELDS, "voicemail_pin", "devices", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class DeviceSerializer(ActionSerializer):
    class Meta:
        model = Device
        fields = ["id", "extension", "username", *DEVICE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["extension", "username", "created_at", "updated_at"]


class NewDeviceSerializer(DeviceSerializer):
    """A SIP credential of an extension; the username defaults to the extension's number
    (then <number>-2, -3 …), the secret is generated and shown in this answer only."""

    username = serializers.CharField(max_length=64, required=False,
                                     validators=Device._meta.get_field("username").validators)

    class Meta(DeviceSerializer.Meta):
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"extension": {"help_text": "The extension's id."}}


class DeviceWithSecretSerializer(DeviceSerializer):
    secret = serializers.CharField(read_only=True, help_text="The SIP password: shown this once, "
                                                             "stored encrypted.")

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "secret"]
