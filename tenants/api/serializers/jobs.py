from __future__ import annotations

from rest_framework import serializers

from tenants.models import Job


class JobErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="The CSV row (row 1 is the header); null: "
                                                              "the job as a whole.")
    column = serializers.CharField(allow_null=True,
                                   help_text="The column at fault; null: the row as a whole.")
    message = serializers.CharField(help_text="The same message the admin and the API give for this value.")


class JobOptionsSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=["all_or_nothing", "best_effort"])


class JobResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=["all_or_nothing", "best_effort"])
    rows = serializers.IntegerField(help_text="Rows in the file.")
    valid_rows = serializers.IntegerField(help_text="Rows without an error.")
    failed_rows = serializers.IntegerField(help_text="Rows with at least one error.")
    imported = serializers.IntegerField(help_text="Extensions made and kept (0 for a dry run or a "
                                                  "rolled-back all-or-nothing import).")


class JobSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True,
                                       default=None)
    options = JobOptionsSerializer(read_only=True)
    errors = JobErrorSerializer(many=True, read_only=True)
    result = JobResultSerializer(read_only=True, allow_null=True,
                                 help_text="Set when the job has finished (null when it could not run).")
    done = serializers.IntegerField(read_only=True, help_text="Rows handled so far (moves while running).")
    total = serializers.IntegerField(read_only=True, help_text="Rows to handle.")

    class Meta:
        model = Job
        fields = ["id", "account", "kind", "state", "options", "done", "total", "errors", "result",
                  "created_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields
