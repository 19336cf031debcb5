"""Background jobs an API caller starts and then polls (``GET /api/v1/jobs/{id}``): a CSV
import of extensions today. A job belongs to one account, like everything else, so an
identity sees the jobs of the accounts it reaches and nothing else.

``done`` / ``total`` are written while the job runs from a connection of their own
(pbx.bulk.Progress), so they can be read before the job's work commits; the final state,
the row errors and the result are written after it commits or rolls back.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Job(models.Model):
    class Kind(models.TextChoices):
        EXTENSION_IMPORT = "extensions.import", "Extension import"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = (State.SUCCEEDED, State.FAILED)

    account = models.ForeignKey("tenants.Account", on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # The address the job was asked from: its audit events carry it, as a request's do.
    created_from = models.GenericIPAddressField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    # What the caller asked for (dry_run, mode), kept as asked.
    options = models.JSONField(default=dict, blank=True)
    # The work's input (the CSV text); emptied when the job finishes, as its rows are
    # then either made or reported.
    payload = models.TextField(blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # [{"row": n, "column": name or null, "message": text}, ...]
    errors = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    result = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="job_account_recent")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"
