from __future__ import annotations

from rest_framework import serializers

from pbx.actions.voicemail import BOX_FIELDS
from pbx.models import VoicemailBox
from pbx.models.extensions import validate_pin
from switchboard.api.serializers import ActionSerializer


class VoicemailBoxSerializer(ActionSerializer):
    class Meta:
        model = VoicemailBox
        fields = ["id", "number", "extension", *BOX_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["extension", "created_at", "updated_at"]
        extra_kwargs = {"extension": {"help_text": "The extension whose box it is; null for a shared box."}}


class NewVoicemailBoxSerializer(VoicemailBoxSerializer):
    """A shared box (no extension; an extension's box is made with the extension)."""

    pin = serializers.CharField(write_only=True, required=False, validators=[validate_pin],
                                help_text="Empty: a random one, shown in this answer only.")

    class Meta(VoicemailBoxSerializer.Meta):
        fields = [*VoicemailBoxSerializer.Meta.fields, "pin"]


class VoicemailBoxWithPinSerializer(VoicemailBoxSerializer):
    pin = serializers.CharField(read_only=True, help_text="The PIN: shown in this answer only.")

    class Meta(VoicemailBoxSerializer.Meta):
        fields = [*VoicemailBoxSerializer.Meta.fields, "pin"]


class VoicemailPinSerializer(serializers.Serializer):
    pin = serializers.CharField(required=False, validators=[validate_pin],
                                help_text="Empty: a new random one (a reset).")
