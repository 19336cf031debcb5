"""The portal's call pages, for every staff role (they change nothing): the history
with the API's search (cdr.filtersets) and keyset pages, its CSV export, the report with
its chart drawn on the server (cdr.charts), and the month's usage per account.

The portal is per tenant host: each page shows the host's account and, for a reseller
(whose staff use its own host), its subtree, exactly as the API's
``/api/v1/accounts/{id}/calls/`` does. The usage page is where a reseller reads each
descendant's month rolled up the tree; the master's and resellers' staff also read it in
the admin (cdr.admin.UsageReportAdmin) and the API (``/api/v1/accounts/{id}/usage/``)."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from cdr.charts import calls_chart
from cdr.export import csv_response
from cdr.filtersets import CallRecordFilterSet
from cdr.models import CallRecord
from cdr.names import label
from cdr.queries import BadCursor, keyset_page, records_of, result_of
from cdr.reports import call_report, usage
from pbx.portal.views.base import PortalPage

PAGE_SIZE = 50


class CallPage(PortalPage):
    model = CallRecord
    verbose_name = "call"
    verbose_name_plural = "calls"
    list_url_name = "portal:call-list"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.identity.account.timezone)

    def filterset(self, request: HttpRequest) -> CallRecordFilterSet:
        query = request.GET.copy()
        query.pop("cursor", None)
        filterset = CallRecordFilterSet(query, queryset=records_of(self.identity.account).defer("raw"))
        filterset.zone = self.zone
        if not self.identity.account.can_have_children:
            del filterset.form.fields["account"]
        return filterset


class CallHistoryView(CallPage):
    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = self.filterset(request)
        rows, page, bad_cursor = [], None, False
        if filterset.is_valid():
            try:
                page = keyset_page(filterset.qs, request.GET.get("cursor") or None, PAGE_SIZE)
            except BadCursor:
                bad_cursor = True
            else:
                rows = [(record, result_of(record)) for record in label(page.rows, self.identity.account)]
        query = request.GET.copy()
        query.pop("cursor", None)

        def link(token: str | None) -> str | None:
            if token is None:
                return None
            linked = query.copy()
            linked["cursor"] = token
            return f"?{linked.urlencode()}"

        start, end = filterset.bounds()
        return render(request, "cdr/call_list.html", self.context(
            filterset=filterset, rows=rows, bad_cursor=bad_cursor, zone=self.zone,
            since=start.astimezone(self.zone).date(),
            until=end.astimezone(self.zone).date() - timedelta(days=1),
            first_link=f"?{query.urlencode()}", next_link=link(page.next if page else None),
            previous_link=link(page.previous if page else None),
            last_link=link("last") if page and (page.next or page.previous) else None,
            export_query=query.urlencode(), subtree=self.identity.account.can_have_children))


class CallExportView(CallPage):
    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = self.filterset(request)
        if not filterset.is_valid():
            return render(request, "cdr/call_list.html", self.context(filterset=filterset, rows=[]),
                          status=400)
        return csv_response(filterset.qs, self.identity.account)


class RangeForm(forms.Form):
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and (since > until or (until - since).days > 400):
            raise forms.ValidationError("Give a range of at most 400 days, its start first.")
        return data


class CallReportView(CallPage):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = RangeForm(request.GET or None)
        report = chart = None
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else {}
            report = call_report(self.identity.account, data.get("since"), data.get("until"))
            # calls_chart escapes every text it draws.
            chart = mark_safe(calls_chart(report.series, report.granularity,
                                          f"Calls per {report.granularity}"))
        return render(request, "cdr/call_report.html", self.context(
            form=form, report=report, chart=chart, subtree=self.identity.account.can_have_children))


class MonthForm(forms.Form):
    month = forms.DateField(required=False, input_formats=["%Y-%m"], label="Month",
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))


class UsageView(CallPage):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = MonthForm(request.GET or None)
        month = timezone.now().astimezone(self.zone).date().replace(day=1)
        rows = None
        if not form.is_bound or form.is_valid():
            chosen: date | None = form.cleaned_data.get("month") if form.is_bound else None
            month = (chosen or month).replace(day=1)
            rows = usage(self.identity.account, month)
        return render(request, "cdr/call_usage.html", self.context(form=form, rows=rows, month=month))
