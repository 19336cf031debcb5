"""What the lists of webhooks and of their deliveries can be narrowed by (the API's and
the portal's, so a filter means the same in both)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from webhooks.models import Event, Webhook, WebhookDelivery


class WebhookFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the URL or description.")
    event = django_filters.ChoiceFilter(choices=Event.choices, method="with_event",
                                        help_text="Only webhooks that take this event.")

    class Meta:
        model = Webhook
        fields = ["q", "enabled", "event"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(url__icontains=value) | queryset.filter(description__icontains=value)

    def with_event(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(events__contains=[value]) if value else queryset


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["event", "status"]
