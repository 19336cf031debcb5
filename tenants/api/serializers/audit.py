from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenants.models import AuditEvent

HIDDEN_ACTOR = "provider staff"


class AuditEventSerializer(serializers.ModelSerializer):
    """Who did what, where and when. An actor from above your own account (your
    provider's staff) is shown as "provider staff", without an address."""

    actor = serializers.SerializerMethodField(help_text="The username of who acted; empty: the platform "
                                                        "itself (a phone's feature code, a lockout).")
    ip = serializers.SerializerMethodField(help_text="The address the action came from, when known.")
    details = serializers.JSONField(help_text="What the action changed, as recorded.")

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "action", "account", "account_name", "actor", "ip", "details"]
        read_only_fields = fields

    def get_actor(self, event: AuditEvent) -> str:
        return event.actor_username if event.actor_inside else HIDDEN_ACTOR

    @extend_schema_field(serializers.IPAddressField(allow_null=True))
    def get_ip(self, event: AuditEvent) -> str | None:
        return event.ip if event.actor_inside else None
