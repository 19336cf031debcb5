from __future__ import annotations

from rest_framework import serializers

from pbx import media
from pbx.actions.media import MOH_GROUP_FIELDS
from pbx.models import MohGroup, MohTrack, Prompt
from switchboard.api.serializers import ActionSerializer

STATUS_HELP = ("pending: converting (a Celery task, seconds); ready: FreeSWITCH plays it; failed: "
               "the converter could not read it (``error`` says why).")
UPLOAD_HELP = (f"{media.ACCEPTED[0].upper()}{media.ACCEPTED[1:]}, at most "
               f"{media.megabytes(media.MAX_FILE_BYTES)}; sent as multipart/form-data.")
MEDIA_FIELDS = ["original_name", "size_bytes", "duration_ms", "status", "error", "created_at"]


class PromptSerializer(ActionSerializer):
    """A recording (greeting, menu, announcement), played once it is converted."""

    class Meta:
        model = Prompt
        fields = ["id", "name", *MEDIA_FIELDS]
        read_only_fields = MEDIA_FIELDS
        extra_kwargs = {"status": {"help_text": STATUS_HELP}}


class NewPromptSerializer(PromptSerializer):
    upload = serializers.FileField(write_only=True, allow_empty_file=True, help_text=UPLOAD_HELP)

    class Meta(PromptSerializer.Meta):
        fields = [*PromptSerializer.Meta.fields, "upload"]


class MohTrackSerializer(serializers.ModelSerializer):
    class Meta:
        model = MohTrack
        fields = ["id", "name", "position", *MEDIA_FIELDS]
        read_only_fields = fields
        extra_kwargs = {"status": {"help_text": STATUS_HELP}}


class NewMohTrackSerializer(serializers.Serializer):
    upload = serializers.FileField(write_only=True, allow_empty_file=True, help_text=UPLOAD_HELP)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                 help_text="Empty: the file's name.")


class MohGroupSerializer(ActionSerializer):
    """Hold music: its tracks play in a loop, shuffled or in their order."""

    tracks = MohTrackSerializer(many=True, read_only=True,
                                help_text="Added with …/tracks/ (multipart), in the order played "
                                          "when not shuffled.")

    class Meta:
        model = MohGroup
        fields = ["id", *MOH_GROUP_FIELDS, "tracks", "created_at"]
        read_only_fields = ["created_at"]


class TrackOrderSerializer(serializers.Serializer):
    track_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500,
                                   help_text="Every track of the group, by id, in the order to play.")
