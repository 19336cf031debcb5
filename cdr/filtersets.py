"""The call-history search, one FilterSet for the API and the portal.

Dates are whole days in the account's time zone (``zone``), both ends included; a
search without them covers the last DEFAULT_DAYS days, so every search names a range of
``start_at`` and PostgreSQL reads only the monthly partitions it overlaps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from cdr.models import CallRecord
from cdr.queries import result_q
from cdr.rollups import RESULTS

DEFAULT_DAYS = 30
DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound"), ("internal", "Internal")]
RESULT_CHOICES = [(result, result.capitalize()) for result in RESULTS]
LEGS = [("a", "Placed (a-leg)"), ("b", "Rung (b-leg)")]


def day_bounds(since: date | None, until: date | None, zone: tzinfo,
               today: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days since..until (both included); the last
    DEFAULT_DAYS days by default."""
    today = today or timezone.now().astimezone(zone).date()
    until = until or (today if since is None else max(since, today))
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    start = datetime.combine(since, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


class CallRecordFilterSet(django_filters.FilterSet):
    since = django_filters.DateFilter(method="filter_nothing", label="From (day)",
                                      help_text="First day, account's time zone (default: 30 days ago).",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(method="filter_nothing", label="To (day)",
                                      help_text="Last day, included (default: today).",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    number = django_filters.CharFilter(method="filter_number", label="Number",
                                       help_text="Caller, callee or DID starting with these digits.")
    extension = django_filters.CharFilter(field_name="extension", label="Extension",
                                          help_text="The extension that called or was rung.")
    direction = django_filters.ChoiceFilter(choices=DIRECTIONS, field_name="direction")
    result = django_filters.ChoiceFilter(choices=RESULT_CHOICES, method="filter_result", label="Result")
    leg = django_filters.ChoiceFilter(choices=LEGS, field_name="leg")
    min_seconds = django_filters.NumberFilter(field_name="billsec", lookup_expr="gte",
                                              label="Talk at least (s)", min_value=0, max_value=10**7)
    max_seconds = django_filters.NumberFilter(field_name="billsec", lookup_expr="lte",
                                              label="Talk at most (s)", min_value=0, max_value=10**7)
    account = django_filters.NumberFilter(field_name="account_id", label="Account",
                                          help_text="One account of the subtree (resellers).",
                                          min_value=1, max_value=2**62)

    class Meta:
        model = CallRecord
        fields: list[str] = []

    # The account's zone, set by the face before ``qs`` is read.
    zone: tzinfo = UTC

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # applied together in filter_queryset

    def filter_number(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        digits = "".join(value.split())
        if not digits:
            return queryset
        return queryset.filter(Q(caller_number__startswith=digits) | Q(callee_number__startswith=digits)
                               | Q(did__startswith=digits))

    def filter_result(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(result_q(value)) if value else queryset

    def bounds(self) -> tuple[datetime, datetime]:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return day_bounds(data.get("since"), data.get("until"), self.zone)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        start, end = self.bounds()
        return super().filter_queryset(queryset).filter(start_at__gte=start, start_at__lt=end)
