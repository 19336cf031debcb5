from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from pbx.models import VoicemailMessage


class VoicemailMessageSerializer(serializers.ModelSerializer):
    """A message as the mirror holds it (read only: messages are left by callers)."""

    box = serializers.IntegerField(source="box_id", read_only=True, help_text="The box's id.")
    is_read = serializers.BooleanField(read_only=True)
    audio_url = serializers.SerializerMethodField(help_text="The recording (audio/wav; Range answered).")

    class Meta:
        model = VoicemailMessage
        fields = ["uuid", "box", "caller_id_name", "caller_id_number", "created_at", "duration",
                  "folder", "is_read", "read_at", "size", "node", "audio_url"]
        read_only_fields = fields

    def get_audio_url(self, message: VoicemailMessage) -> str:
        request = self.context.get("request")
        path = reverse("voicemail-message-audio", kwargs={
            "account_id": self.context["account_id"], "box_id": message.box_id, "uuid": message.uuid})
        return request.build_absolute_uri(path) if request is not None else path


class SyncSerializer(serializers.Serializer):
    nodes = serializers.IntegerField(read_only=True, help_text="FreeSWITCH nodes that listed the box.")
