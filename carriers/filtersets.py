"""What a list of trunks can be narrowed by (the API's list; the admin's filters mean the
same)."""

from __future__ import annotations

import django_filters

from carriers.models import Trunk


class TrunkFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search",
                                  help_text="Part of the name.")

    class Meta:
        model = Trunk
        fields = ["q", "enabled", "emergency"]
