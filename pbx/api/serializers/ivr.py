from __future__ import annotations

from rest_framework import serializers

from pbx.actions.ivr import IVR_FIELDS
from pbx.models import Ivr
from switchboard.api.serializers import ActionSerializer


class IvrSerializer(ActionSerializer):
    options = serializers.SerializerMethodField(help_text="Key (0-9, *, #) → destination; set them "
                                                          "with …/options/.")

    class Meta:
        model = Ivr
        fields = ["id", "name", *IVR_FIELDS, "options", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_options(self, ivr: Ivr) -> dict[str, str]:
        return {option.key: option.destination for option in ivr.options.all()}


class IvrOptionsSerializer(serializers.Serializer):
    options = serializers.DictField(
        child=serializers.CharField(max_length=40, allow_blank=True),
        help_text="Key (0-9, *, #) → destination (extension:<id>, ring_group:<id>, …); an empty "
                  "destination leaves the key out.")
