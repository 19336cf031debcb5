from __future__ import annotations

from rest_framework import serializers

from pbx.models.destinations import validate_destination
from switchboard.api.serializers import ActionSerializer
from tenants.models import PhoneNumber
from tenants.validators import validate_printable


class PhoneNumberSerializer(ActionSerializer):
    route = serializers.CharField(max_length=40, allow_blank=True, required=False,
                                  validators=[validate_destination],
                                  help_text="Where its calls go: a destination of the account "
                                            "(extension:<id>, ivr:<id>, …); empty: not routed.")
    caller_id_name = serializers.CharField(max_length=50, allow_blank=True, required=False,
                                           validators=[validate_printable])
    moh_group = serializers.IntegerField(source="moh_group_id", allow_null=True, required=False, min_value=1,
                                         help_text="A hold-music group of the account; null: the default.")

    class Meta:
        model = PhoneNumber
        fields = ["id", "e164", "account", "route", "caller_id_name", "privacy_screening", "moh_group",
                  "created_at"]
        read_only_fields = ["e164", "account", "created_at"]
        extra_kwargs = {"account": {"help_text": "The account holding it; null: the platform pool."}}


class NumberImportSerializer(serializers.Serializer):
    numbers = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1,
                                    max_length=1000, help_text="E.164 numbers for the platform pool.")


class NumberAssignSerializer(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, help_text="An account directly below the holder.")
