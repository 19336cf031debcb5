from __future__ import annotations

from rest_framework import serializers

from pbx.actions.ringgroups import MAX_MEMBERS, RING_GROUP_FIELDS
from pbx.models import RingGroup, RingGroupMember
from switchboard.api.serializers import ActionSerializer


class RingGroupMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = RingGroupMember
        fields = ["destination", "ring_seconds", "enabled"]
        extra_kwargs = {"destination": {"help_text": "extension:<id> or external:+<E.164 number>."}}


class RingGroupSerializer(ActionSerializer):
    members = RingGroupMemberSerializer(many=True, read_only=True,
                                        help_text="Rung in this order; set them with …/members/.")

    class Meta:
        model = RingGroup
        fields = ["id", "number", *RING_GROUP_FIELDS, "members", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class RingGroupMembersSerializer(serializers.Serializer):
    members = RingGroupMemberSerializer(many=True, max_length=MAX_MEMBERS)
