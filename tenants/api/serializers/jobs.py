from __future__ import annotations

from rest_framework import serializers

from tenants.models import Job


class JobErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="The CSV row (row 1 is the header); null: "
                                                              "the job as a whole.")
    column = serializers.CharField(allow_null=True,
                                   help_text="The column at fault; null: the row as a whole.")
    message = serializers.CharField(help_text="The same message the admin and the API give for this value.")


EXISTING_HELP = ("A row whose number is an existing extension's: error (a row error), update (changed "
                 "in the file's columns) or skip (left out).")
OUTCOMES = ["created", "updated", "unchanged", "skipped", "failed"]


class JobOptionsSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=["all_or_nothing", "best_effort"])
    existing = serializers.ChoiceField(choices=["error", "update", "skip"], default="error",
                                       help_text=EXISTING_HELP)


class JobRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The CSV row (row 1 is the header).")
    number = serializers.CharField(help_text="The row's extension number.")
    outcome = serializers.ChoiceField(choices=OUTCOMES, help_text=(
        "What the row did, or would have done when nothing was kept (a dry run, a rolled-back "
        "all-or-nothing import): created, updated, unchanged (an existing extension already as the "
        "row says), skipped, failed (its errors are in the job's errors)."))
    changed = serializers.ListField(child=serializers.CharField(), help_text="For updated: the columns "
                                                                             "whose values changed.")


class JobResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=["all_or_nothing", "best_effort"])
    existing = serializers.ChoiceField(choices=["error", "update", "skip"], default="error",
                                       help_text=EXISTING_HELP)
    rows = serializers.IntegerField(help_text="Rows in the file.")
    valid_rows = serializers.IntegerField(help_text="Rows without an error.")
    failed_rows = serializers.IntegerField(help_text="Rows with at least one error.")
    imported = serializers.IntegerField(help_text="Extensions made or changed and kept (0 for a dry run "
                                                  "or a rolled-back all-or-nothing import).")
    created = serializers.IntegerField(default=0, help_text="Rows whose extension is (or would be) made.")
    updated = serializers.IntegerField(default=0, help_text="Rows whose extension is (or would be) changed.")
    unchanged = serializers.IntegerField(default=0, help_text="Rows of an existing extension already as "
                                                              "the row says: nothing written.")
    skipped = serializers.IntegerField(default=0, help_text="Rows of an existing number left out "
                                                            "(existing=skip).")
    report = JobRowSerializer(many=True, default=list, help_text="Each row's outcome, in file order.")


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


class JobSummarySerializer(JobSerializer):
    """A job in a list: without its row errors and result (up to 10,000 rows each); read
    them with GET /api/v1/jobs/{id}/."""

    class Meta(JobSerializer.Meta):
        fields = [f for f in JobSerializer.Meta.fields if f not in ("errors", "result")]
        read_only_fields = fields
