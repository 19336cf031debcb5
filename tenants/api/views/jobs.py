"""Background jobs (a CSV import): their state and progress, polled by the caller that
started them. A job is seen by every identity that reaches its account, and by nobody
else: another account's job id answers 404, like one that does not exist."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from switchboard.api.views import ApiViewSet
from tenants.api.serializers.jobs import JobSerializer
from tenants.models import Job


@extend_schema_view(retrieve=extend_schema(
    summary="A job's state, progress (done of total) and per-row errors", tags=["jobs"]))
class JobViewSet(ApiViewSet, mixins.RetrieveModelMixin):
    serializer_class = JobSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return Job.objects.select_related("created_by").filter(account__in=self.identity.accounts())
