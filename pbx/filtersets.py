"""What a list of the tenant's PBX objects can be narrowed by: one FilterSet per model,
used by the portal's lists and the API's, so a search means the same in both."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from pbx.models import (
    CallBlock,
    CallQueue,
    ConferenceRoom,
    Device,
    Extension,
    Ivr,
    MohGroup,
    Prompt,
    RingGroup,
    Schedule,
    ScheduleEvent,
    VoicemailBox,
    VoicemailMessage,
)
from tenants.models import PhoneNumber


class _Searchable(django_filters.FilterSet):
    """``q``: part of any of ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label="Search", help_text="Part of the number or name.")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class ExtensionFilterSet(_Searchable):
    search_fields = ("number", "name", "email")

    class Meta:
        model = Extension
        fields = ["q", "enabled", "do_not_disturb", "call_permission"]


class RingGroupFilterSet(_Searchable):
    search_fields = ("number", "name")

    class Meta:
        model = RingGroup
        fields = ["q", "strategy"]


class DeviceFilterSet(_Searchable):
    search_fields = ("username", "label", "mac_address")

    class Meta:
        model = Device
        fields = ["q", "extension", "enabled"]


class ScheduleFilterSet(_Searchable):
    search_fields = ("name",)

    class Meta:
        model = Schedule
        fields = ["q", "default_action"]


class IvrFilterSet(_Searchable):
    search_fields = ("number", "name")

    class Meta:
        model = Ivr
        fields = ["q", "dial_by_extension"]


class ConferenceRoomFilterSet(_Searchable):
    search_fields = ("number", "name")

    class Meta:
        model = ConferenceRoom
        fields = ["q", "locked", "record"]


class CallQueueFilterSet(_Searchable):
    search_fields = ("number", "name")

    class Meta:
        model = CallQueue
        fields = ["q", "strategy"]


class CallBlockFilterSet(_Searchable):
    search_fields = ("pattern", "comment")
    extension = django_filters.ModelChoiceFilter(
        queryset=Extension.objects.order_by("number"), null_label="Whole account", null_value="null",
        empty_label="Every block", label="Scope",
        help_text="One extension's own blocks (its id), or the whole account's (null).")

    class Meta:
        model = CallBlock
        fields = ["q", "anonymous", "direction", "extension"]


class VoicemailBoxFilterSet(_Searchable):
    search_fields = ("number", "name", "email")
    shared = django_filters.BooleanFilter(field_name="extension", lookup_expr="isnull",
                                          help_text="Only boxes of no extension (shared boxes), or only "
                                                    "extensions' boxes.")

    class Meta:
        model = VoicemailBox
        fields = ["q", "enabled", "shared"]


class PhoneNumberFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Part of the number or its "
                                                                             "caller-ID name.")
    routed = django_filters.BooleanFilter(method="filter_routed", help_text="Only routed, or only "
                                                                            "unrouted, numbers.")

    class Meta:
        model = PhoneNumber
        fields = ["q", "routed", "privacy_screening"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(e164__icontains=value) | Q(caller_id_name__icontains=value))

    def filter_routed(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.exclude(route="") if value else queryset.filter(route="")


class ScheduleEventFilterSet(_Searchable):
    search_fields = ("name",)
    q = django_filters.CharFilter(method="search", label="Search", help_text="Part of the name.")

    class Meta:
        model = ScheduleEvent
        fields = ["q", "schedule", "repeat", "action"]


class PromptFilterSet(_Searchable):
    search_fields = ("name", "original_name")

    class Meta:
        model = Prompt
        fields = ["q", "status"]


class MohGroupFilterSet(_Searchable):
    search_fields = ("name",)

    class Meta:
        model = MohGroup
        fields = ["q", "shuffle"]


class VoicemailMessageFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search",
                                  help_text="Part of the caller's number or name.")
    read = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", exclude=True,
                                        help_text="Only read, or only new, messages.")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                             help_text="Left at or after this time.")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                             help_text="Left before this time.")

    class Meta:
        model = VoicemailMessage
        fields = ["q", "folder", "read", "since", "until"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(caller_id_number__icontains=value) | Q(caller_id_name__icontains=value))
