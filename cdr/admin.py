"""The admin's call-record pages.

* Call-record posts we could not read (cdr_rejectedpost), for the master's staff only:
  they are platform-wide and may name any tenant, so no reseller may see them; for
  anyone else the pages are a 404. Read-only: a post is fixed by fixing the reader and
  replaying it from the node's err-log-dir (docs/cdr.md).
* "Usage per month" (``/admin/cdr/usagereport/``): a month's usage of the viewer's
  account and every account below it, rolled up the tree (cdr.reports.usage, the API's
  ``usage/``), as a table with a month picker and a CSV download;
  ``/admin/cdr/usagereport/<id>/`` is the same for one account of the viewer's subtree,
  any other id a 404 (tenants.scoping)."""

from __future__ import annotations

import zoneinfo
from datetime import date

from django import forms
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from cdr.export import usage_csv_response
from cdr.models import RejectedPost, UsageReport
from cdr.reports import usage
from tenants.admin.site import PlatformOnlyAdmin, ScopedAdmin, admin_site
from tenants.models import Account
from tenants.scoping import NotInSubtree, visible_account

PREVIEW_BYTES = 4096


@admin.register(RejectedPost, site=admin_site)
class RejectedPostAdmin(PlatformOnlyAdmin):
    list_display = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid", "reason"]
    search_fields = ["query_uuid", "reason", "remote_addr"]
    ordering = ["-received_at"]
    fields = readonly_fields = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid",
                                "content_type", "reason", "sha256", "body_preview"]

    @admin.display(description="Body (first 4 KB)")
    def body_preview(self, post: RejectedPost) -> str:
        return bytes(post.body[:PREVIEW_BYTES]).decode("utf-8", "replace")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MonthForm(forms.Form):
    month = forms.DateField(required=False, input_formats=["%Y-%m"], label="Month",
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))


@admin.register(UsageReport, site=admin_site)
class UsageReportAdmin(ScopedAdmin):
    """Read-only: one page per account of the viewer's subtree (the changelist is the
    viewer's own account's)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.usage_view), name="cdr_usagereport_changelist"),
            path("<int:account_id>/", view(self.usage_view), name="cdr_usagereport_account"),
        ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def usage_view(self, request: HttpRequest, account_id: int | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        if account_id is None:
            account = request.user.account
        else:
            try:
                account = visible_account(request.user, account_id)
            except NotInSubtree:
                raise Http404 from None
        zone = zoneinfo.ZoneInfo(account.timezone)
        month = timezone.now().astimezone(zone).date().replace(day=1)
        form = MonthForm(request.GET or None)
        rows = None
        if not form.is_bound or form.is_valid():
            chosen: date | None = form.cleaned_data.get("month") if form.is_bound else None
            month = (chosen or month).replace(day=1)
            rows = usage(account, month)
            if request.GET.get("format") == "csv":
                return usage_csv_response(rows, account, month)
        parent = None
        if account.pk != request.user.account_id and account.depth > 1:
            parent = Account.objects.filter(path=account.path[:-Account.steplen]).first()
            if parent is not None and not parent.is_within(request.user.account):
                parent = None
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "account": account, "parent": parent, "rows": rows, "month": month,
                   "title": f"Usage of {account.name} and its sub-accounts, {month:%B %Y}"}
        return TemplateResponse(request, "admin/cdr/usage.html", context)
