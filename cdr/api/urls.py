"""Call history under /api/v1/accounts/{account_id}/ (read-only)."""

from django.urls import path

from cdr.api.views import CallRecordViewSet, CallReportViewSet, UsageViewSet

urlpatterns = [
    path("accounts/<int:account_id>/calls/", CallRecordViewSet.as_view({"get": "list"}),
         name="call-record-list"),
    path("accounts/<int:account_id>/calls/export.csv", CallRecordViewSet.as_view({"get": "export"}),
         name="call-record-export"),
    path("accounts/<int:account_id>/calls/report/", CallReportViewSet.as_view({"get": "retrieve"}),
         name="call-report"),
    path("accounts/<int:account_id>/usage/", UsageViewSet.as_view({"get": "retrieve"}), name="call-usage"),
]
