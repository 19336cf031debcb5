"""The live conferences as the API shows them (read from the registry,
fsnodes.conferences)."""

from __future__ import annotations

from rest_framework import serializers


class LiveMemberSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(
        help_text="mod_conference's member id: what the member operations take.")
    caller_id_name = serializers.CharField()
    caller_id_number = serializers.CharField()
    muted = serializers.BooleanField(help_text="The others cannot hear the member.")
    deaf = serializers.BooleanField(help_text="The member cannot hear the others.")
    talking = serializers.BooleanField(help_text="Speaking right now (the node's energy gate).")
    moderator = serializers.BooleanField()
    joined_at = serializers.DateTimeField()


class LiveConferenceSerializer(serializers.Serializer):
    room = serializers.CharField(help_text="The conference room's number.")
    name = serializers.CharField(help_text="The name FreeSWITCH knows it by (<room>-<domain>).")
    node = serializers.CharField(help_text="The FreeSWITCH node it runs on.")
    locked = serializers.BooleanField(help_text="Nobody else may join.")
    recording = serializers.BooleanField()
    members = LiveMemberSerializer(many=True)


class ControlResultSerializer(serializers.Serializer):
    room = serializers.CharField()
    member_id = serializers.IntegerField(required=False, help_text="For a member operation.")
    operation = serializers.CharField()
    node = serializers.CharField(help_text="The node that did it.")
    reply = serializers.CharField(help_text="FreeSWITCH's answer, as it gave it.")
