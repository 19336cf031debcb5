"""What a list of accounts can be narrowed by; the API's lists use these, and the
portal's lists (and their "select all") will too, so both mean the same thing."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from tenants.models import Account


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the name or of one of its domains.")

    class Meta:
        model = Account
        fields = ["q", "kind", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        with_domain = Account.objects.filter(domains__domain__icontains=value).values("pk")
        return queryset.filter(Q(name__icontains=value) | Q(pk__in=with_domain))
