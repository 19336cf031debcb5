from __future__ import annotations

from rest_framework import serializers

from carriers.actions import GATEWAY_FIELDS, TRUNK_FIELDS
from carriers.models import Gateway, Trunk
from switchboard.api.serializers import ActionSerializer
from tenants.models import Account

MAX_GATEWAYS = 20


class GatewaySerializer(ActionSerializer):
    """One carrier address of a trunk, tried in ``position`` order. Its password is
    write-only: stored encrypted, never shown (``has_password`` says whether there is one)."""

    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128,
                                     style={"input_type": "password"},
                                     help_text="Leave out to keep it; empty clears it.")
    has_password = serializers.SerializerMethodField()
    freeswitch_name = serializers.CharField(read_only=True, help_text="The gateway's name in FreeSWITCH.")

    class Meta:
        model = Gateway
        fields = ["id", *GATEWAY_FIELDS, "password", "has_password", "freeswitch_name"]

    def get_has_password(self, gateway: Gateway) -> bool:
        return bool(gateway.password_encrypted)


class TrunkSerializer(ActionSerializer):
    """A carrier connection owned by an account: it carries the outside calls of the
    account and of every account below that uses its parent's trunks."""

    gateways = GatewaySerializer(many=True, read_only=True,
                                 help_text="Changed with …/gateways/; tried in their order.")

    class Meta:
        model = Trunk
        fields = ["id", "account", *TRUNK_FIELDS, "gateways", "created_at", "updated_at"]
        read_only_fields = ["account", "created_at", "updated_at"]


class NewTrunkSerializer(TrunkSerializer):
    gateways = GatewaySerializer(many=True, min_length=1, max_length=MAX_GATEWAYS,
                                 help_text="At least one; tried in this order.")


class TrunkSourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=Account.TrunkSource.choices,
        help_text="parent: the account's calls use the trunks of the account above (and so on up); "
                  "local: its own trunks only (none: no way out).")
