"""Background jobs (a CSV import): their state and progress, polled by the caller that
started them, and the list of them. A job is seen by every identity that reaches its
account, and by nobody else: another account's job id answers 404, like one that does
not exist, and the list holds the jobs of the accounts the caller reaches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from switchboard.api.views import ApiViewSet
from tenants.api.serializers.jobs import JobSerializer, JobSummarySerializer
from tenants.filtersets import JobFilterSet
from tenants.models import Job


@extend_schema_view(
    retrieve=extend_schema(summary="A job's state, progress (done of total), per-row errors and outcomes",
                           tags=["jobs"]),
    list=extend_schema(summary="The jobs of the accounts you reach, newest first (without their rows)",
                       tags=["jobs"]),
)
class JobViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created_at", "finished_at", "state"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        return JobSummarySerializer if self.action == "list" else JobSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        # The CSV being imported (up to 4 MB) is never shown; a list shows no rows either.
        unread = ("payload", "errors", "result") if self.action == "list" else ("payload",)
        return (Job.objects.select_related("created_by").defer(*unread)
                .filter(account__in=self.identity.accounts()))
