from __future__ import annotations

from rest_framework import serializers

from pbx.actions.queues import MAX_AGENTS, QUEUE_FIELDS
from pbx.models import CallQueue, Extension, QueueAgent
from switchboard.api.serializers import ActionSerializer


class CallQueueSerializer(ActionSerializer):
    class Meta:
        model = CallQueue
        fields = ["id", "number", *QUEUE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class QueueAgentSerializer(serializers.ModelSerializer):
    extension = serializers.PrimaryKeyRelatedField(queryset=Extension.objects.all(),
                                                   help_text="The extension's id.")
    position = serializers.IntegerField(min_value=1, max_value=999, required=False, allow_null=True,
                                        help_text="Within its level; empty: its place in the list.")

    class Meta:
        model = QueueAgent
        fields = ["extension", "level", "position", "login_required", "logged_in", "paused"]
        read_only_fields = ["logged_in", "paused"]


class QueueAgentsSerializer(serializers.Serializer):
    agents = QueueAgentSerializer(many=True, max_length=MAX_AGENTS)
