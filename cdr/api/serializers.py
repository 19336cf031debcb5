"""The shapes of the call-history API's answers and query parameters."""

from __future__ import annotations

import re
from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cdr.models import CallRecord
from cdr.queries import result_of

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class CallRecordSerializer(serializers.ModelSerializer):
    """One leg, with names beside its numbers (cdr.names: today's names; "(deleted)" for
    an object gone). The trunk is named only to its owner and the accounts above it."""

    account = serializers.IntegerField(source="account_id", read_only=True)
    result = serializers.SerializerMethodField()
    account_label = serializers.CharField(source="labels.account", read_only=True,
                                          help_text="The account's name.")
    extension_label = serializers.CharField(source="labels.extension", read_only=True,
                                            help_text="The extension's number and name.")
    did_label = serializers.CharField(source="labels.did", read_only=True,
                                      help_text="The DID, \"(deleted)\" when no longer the account's.")
    trunk_label = serializers.CharField(source="labels.trunk", read_only=True,
                                        help_text="Trunk and gateway, or \"Provider's trunk\".")
    destination_label = serializers.CharField(source="labels.destination", read_only=True,
                                              help_text='Kind and name, e.g. "Ring group Sales".')

    class Meta:
        model = CallRecord
        fields = ["leg_uuid", "call_uuid", "other_leg_uuid", "leg", "account", "account_label", "start_at",
                  "answer_at", "end_at", "direction", "result", "caller_number", "caller_name",
                  "callee_number", "extension", "extension_label", "did", "did_label", "trunk_label",
                  "destination_kind", "destination_label", "duration", "billsec", "hangup_cause",
                  "sip_status"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": ["answered", "missed", "busy", "failed"]})
    def get_result(self, record: CallRecord) -> str:
        return result_of(record)


class RangeSerializer(serializers.Serializer):
    since = serializers.DateField(required=False,
                                  help_text="First day (account's time zone); default 30 days ago.")
    until = serializers.DateField(required=False, help_text="Last day, included; default today.")

    def validate(self, data: dict) -> dict:
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        if since and until and (until - since).days > 400:
            raise serializers.ValidationError({"until": ["At most 400 days."]})
        return data


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(required=False, help_text="YYYY-MM (default: this month).")

    def validate_month(self, value: str) -> date:
        if not MONTH.match(value):
            raise serializers.ValidationError("Give a month as YYYY-MM.")
        year, month = value.split("-")
        if not 2000 <= int(year) <= 2999:
            raise serializers.ValidationError("Give a month as YYYY-MM.")
        return date(int(year), int(month), 1)


class TotalsSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()
    missed = serializers.IntegerField()
    busy = serializers.IntegerField()
    failed = serializers.IntegerField()
    talk_seconds = serializers.IntegerField()
    asr_percent = serializers.FloatField(allow_null=True, help_text="Answer-seizure ratio: answered / calls.")
    aloc_seconds = serializers.FloatField(allow_null=True, help_text="Average length of the answered calls.")


@extend_schema_field({"type": "string", "example": "2026-11-08T09:00:00"})
class LocalDateTimeField(serializers.Field):
    """A naive local time as it is, ISO 8601 without an offset. DRF's DateTimeField would
    make it aware in UTC and print "Z": the account's 09:00 would read as 09:00 UTC."""

    def to_representation(self, value):
        return value.isoformat()


class PointSerializer(serializers.Serializer):
    at = LocalDateTimeField(help_text="Local start of the hour or day, in the account's time zone "
                                      "(no offset).")
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()


class ExtensionRowSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    extension = serializers.CharField()
    placed = serializers.IntegerField()
    placed_answered = serializers.IntegerField()
    placed_seconds = serializers.IntegerField()
    rung = serializers.IntegerField()
    picked_up = serializers.IntegerField()
    missed = serializers.IntegerField()
    received_seconds = serializers.IntegerField()


class UsageRowSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    label = serializers.CharField(help_text="The DID, or the trunk's name.")
    direction = serializers.CharField()
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()
    seconds = serializers.IntegerField()


class CallReportSerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    granularity = serializers.ChoiceField(choices=["hour", "day"])
    totals = serializers.SerializerMethodField()
    by_direction = serializers.SerializerMethodField()
    series = PointSerializer(many=True)
    extensions = ExtensionRowSerializer(many=True)
    numbers = UsageRowSerializer(many=True)
    trunks = UsageRowSerializer(many=True)

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, report) -> dict:
        return report.totals.as_dict()

    @extend_schema_field({"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Totals"}})
    def get_by_direction(self, report) -> dict:
        return {direction: totals.as_dict() for direction, totals in report.by_direction.items()}


class OutboundMinutesSerializer(serializers.Serializer):
    local = serializers.FloatField()
    domestic = serializers.FloatField()
    international = serializers.FloatField()
    emergency = serializers.FloatField()
    unknown = serializers.FloatField()


class FiguresSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    minutes = serializers.FloatField()
    outbound_minutes = OutboundMinutesSerializer()


class AccountUsageSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    name = serializers.CharField(source="account.name")
    kind = serializers.CharField(source="account.kind")
    parent = serializers.SerializerMethodField()
    depth = serializers.IntegerField()
    own = serializers.SerializerMethodField()
    subtree = serializers.SerializerMethodField()

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_parent(self, row) -> int | None:
        return self.context["parents"].get(row.account.pk)

    @extend_schema_field(FiguresSerializer)
    def get_own(self, row) -> dict:
        return row.own.as_dict()

    @extend_schema_field(FiguresSerializer)
    def get_subtree(self, row) -> dict:
        return row.subtree.as_dict()


class UsageSerializer(serializers.Serializer):
    month = serializers.CharField()
    accounts = AccountUsageSerializer(many=True)
