from __future__ import annotations

from rest_framework import serializers

from pbx.actions.followme import MAX_STEPS, MAX_TARGETS
from pbx.models import FollowMe, FollowMeStep


class FollowMeStepSerializer(serializers.ModelSerializer):
    targets = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=MAX_TARGETS,
        help_text="Rung at once: extension:<id> or external:+<E.164 number>.",
    )

    class Meta:
        model = FollowMeStep
        fields = ["ring_seconds", "confirm", "targets"]

    def to_representation(self, step: FollowMeStep) -> dict:
        # The targets are rows of their own; the list is read from what the view prefetched.
        return {"ring_seconds": step.ring_seconds, "confirm": step.confirm,
                "targets": [target.destination for target in step.targets.all()]}


class FollowMeSerializer(serializers.ModelSerializer):
    """An extension's follow-me: its steps in order, then the fallback (empty: the
    extension's voicemail)."""

    steps = FollowMeStepSerializer(many=True, max_length=MAX_STEPS,
                                   help_text="Rung in this order; a PUT replaces them all.")
    active_hours = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, source="active_hours_id",
        help_text="A schedule's id: outside its open hours the steps are skipped. Null: always.")
    moh_group = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, source="moh_group_id",
        help_text="A hold-music group's id: callers hear it instead of ringback. Null: ringback.")

    class Meta:
        model = FollowMe
        fields = ["extension", "enabled", "record_name", "offer_voicemail", "ignore_busy", "active_hours",
                  "moh_group", "fallback", "steps"]
        read_only_fields = ["extension"]
        extra_kwargs = {"fallback": {"help_text": "After the last step: a destination (kind:ref); "
                                                  "empty: the extension's voicemail."}}
