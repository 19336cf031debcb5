"""Under the portal's ``calls/`` (included by pbx.portal.urls, so in its ``portal``
namespace and walked by its page x role matrix)."""

from django.urls import path

from cdr.portal import views

urlpatterns = [
    path("", views.CallHistoryView.as_view(), name="call-list"),
    path("export.csv", views.CallExportView.as_view(), name="call-export"),
    path("report/", views.CallReportView.as_view(), name="call-report"),
    path("usage/", views.UsageView.as_view(), name="call-usage"),
]
