from django.contrib import admin

from tenants.admin.site import ScopedAdmin, admin_site
from tenants.models import AuditEvent

HIDDEN_ACTOR = "provider staff"


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(ScopedAdmin):
    list_display = ["at", "actor_display", "action", "account_name", "ip_display"]
    list_filter = ["action"]
    search_fields = ["account_name", "action"]
    date_hierarchy = "at"
    readonly_fields = ["at", "actor_display", "action", "account_name", "details", "ip_display"]
    fields = readonly_fields

    def get_queryset(self, request):
        """An event is shown to the accounts above where it happened, while the account is
        still theirs; actors from above the viewer are shown only as provider staff."""
        return AuditEvent.objects.visible_to(request.user.account).select_related("actor__account")

    @admin.display(description="Who")
    def actor_display(self, obj: AuditEvent) -> str:
        if not obj.actor_inside:
            return HIDDEN_ACTOR
        return obj.actor_username or "—"

    @admin.display(description="IP address")
    def ip_display(self, obj: AuditEvent) -> str:
        return (obj.ip or "—") if obj.actor_inside else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
