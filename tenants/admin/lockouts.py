"""Failed sign-ins and current lockouts (tenants.throttling), for the master's staff only:
the attempts are platform-wide (any username, any address, any host), so no reseller may
see them; for anyone else the pages are a 404. The master's admins clear a lockout by
username or by address."""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import BooleanField, Case, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from tenants.admin.site import PlatformOnlyAdmin, admin_site
from tenants.http import client_ip
from tenants.throttling import do_clear_lockouts


def _locked_keys(field: str) -> QuerySet:
    """The usernames (or addresses) whose failures within the cool-off reach the limit."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off())
    return (recent.exclude(**{f"{field}__isnull": True}).values(field)
            .annotate(total=Sum("failures_since_start"))
            .filter(total__gte=settings.AXES_FAILURE_LIMIT).values(field))


class LockedNowFilter(admin.SimpleListFilter):
    title = "locked out now"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        locked = Q(user_locked=True) | Q(address_locked=True)
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


@admin.register(AccessAttempt, site=admin_site)
class SignInLockoutAdmin(PlatformOnlyAdmin):
    list_display = ["attempt_time", "username", "ip_address", "failures_since_start", "locked_now",
                    "path_info"]
    list_filter = [LockedNowFilter, "path_info"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["clear_usernames", "clear_addresses"]
    fields = readonly_fields = ["attempt_time", "username", "ip_address", "failures_since_start",
                                "locked_now", "path_info", "user_agent", "http_accept"]

    def get_queryset(self, request):
        return AccessAttempt.objects.annotate(
            user_locked=Case(When(username__in=_locked_keys("username"), then=Value(True)),
                             default=Value(False), output_field=BooleanField()),
            address_locked=Case(When(ip_address__in=_locked_keys("ip_address"), then=Value(True)),
                                default=Value(False), output_field=BooleanField()),
        )

    @admin.display(description="Locked out now")
    def locked_now(self, attempt: AccessAttempt) -> str:
        locked = [what for what, on in (("username", attempt.user_locked),
                                        ("address", attempt.address_locked)) if on]
        return " and ".join(locked) or "—"

    def _clear(self, request, *, usernames=(), addresses=()) -> None:
        removed = do_clear_lockouts(request.user, usernames=usernames, addresses=addresses,
                                    ip=client_ip(request))
        what = ", ".join([*usernames, *addresses])
        messages.success(request, f"Cleared the failed sign-ins of {what} ({removed} record(s)).")

    @admin.action(description="Clear the lockout of the selected usernames")
    def clear_usernames(self, request, queryset):
        self._clear(request, usernames=sorted({a.username for a in queryset if a.username}))

    @admin.action(description="Clear the lockout of the selected addresses")
    def clear_addresses(self, request, queryset):
        self._clear(request, addresses=sorted({a.ip_address for a in queryset if a.ip_address}))
