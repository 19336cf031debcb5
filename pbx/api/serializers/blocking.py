from __future__ import annotations

from rest_framework import serializers

from pbx.actions.blocking import BLOCK_FIELDS
from pbx.models import CallBlock, Extension
from switchboard.api.serializers import ActionSerializer


class CallBlockSerializer(ActionSerializer):
    pattern = serializers.CharField(
        max_length=20, required=False, allow_blank=True,
        help_text="A number (E.164 or as dialed in the account's country) or a prefix ending in * "
                  "(+1900*); empty with anonymous.")
    extension = serializers.PrimaryKeyRelatedField(
        queryset=Extension.objects.all(), allow_null=True, required=False,
        help_text="The extension whose own block it is (calls offered to it, calls out from it); "
                  "null: the whole account's (calls to its numbers, calls out from any phone).")

    class Meta:
        model = CallBlock
        fields = ["id", *BLOCK_FIELDS, "created_at"]
        read_only_fields = ["created_at"]
