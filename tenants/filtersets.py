"""What a list of accounts can be narrowed by; the API's lists use these, and the
portal's lists (and their "select all") will too, so both mean the same thing."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q

from tenants.models import Account, ApiKey, AuditEvent, Job, User
from tenants.models.apikeys import TOKEN_START


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


class Moment(django_filters.IsoDateTimeFilter):
    """A time, refused by field when it lies beyond what a timestamp holds once in UTC
    (9999-12-31T23:59-05:00 is year 10000): the database would refuse it mid-query."""

    def __init__(self, *args, param: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.param = param

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValidationError({self.param: ["This time is out of range."]}) from None
        return super().filter(qs, value)


class AuditEventFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(
        method="filter_action", help_text="An action (extension.create), or every action of a kind "
                                          "when it ends with a dot (extension.).")
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="The username of who acted (only actors of your own accounts: "
                                         "provider staff stay unnamed).")
    account = django_filters.NumberFilter(field_name="account_id", help_text="Only this account's events.")
    object = django_filters.CharFilter(
        method="filter_object", help_text="Part of what the event names (a number, a name, a domain …).")
    since = Moment(param="since", field_name="at", lookup_expr="gte",
                   help_text="At or after this time (ISO 8601 with its offset).")
    until = Moment(param="until", field_name="at", lookup_expr="lt",
                   help_text="Before this time (ISO 8601 with its offset).")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "account", "object", "since", "until"]

    def filter_action(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def filter_actor(self, queryset, name, value):
        # Within the actors the caller may see, or a hidden actor's name could be probed.
        return queryset.filter(actor_username=value.strip(), actor_inside=True) if value.strip() else queryset

    def filter_object(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(details__icontains=value) if value else queryset


class StaffUserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the username, name or e-mail.")

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(username__icontains=value) | Q(first_name__icontains=value)
                               | Q(last_name__icontains=value) | Q(email__icontains=value))


class ApiKeyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the key's name, or the start of its prefix.")

    class Meta:
        model = ApiKey
        fields = ["q", "read_only"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        prefix = value.lower().removeprefix(TOKEN_START)
        return queryset.filter(Q(name__icontains=value) | Q(prefix__startswith=prefix))


class JobFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the username of who started the job.")
    account = django_filters.NumberFilter(field_name="account_id", help_text="Only this account's jobs.")

    class Meta:
        model = Job
        fields = ["q", "account", "kind", "state"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(created_by__username__icontains=value) if value else queryset
