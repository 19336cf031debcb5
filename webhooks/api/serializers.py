from __future__ import annotations

from rest_framework import serializers

from switchboard.api.serializers import ActionSerializer
from webhooks.models import Event, Webhook, WebhookDelivery


class WebhookSerializer(ActionSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), min_length=1, max_length=len(Event.values),
        required=False, help_text="What it is told of; all of them when not given.")

    class Meta:
        model = Webhook
        fields = ["id", "url", "description", "events", "enabled", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"url": {"help_text": "Where events are POSTed (http or https; not a private "
                                             "or loopback address)."}}


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown in this answer only.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook", "event", "event_id", "payload", "status", "attempts", "last_status_code",
                  "last_error", "next_attempt_at", "delivered_at", "created_at"]
        read_only_fields = fields
