from django.contrib import admin

from tenants.admin.site import ScopedAdmin, admin_site
from tenants.models import AuditEvent


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(ScopedAdmin):
    list_display = ["at", "actor_username", "action", "account_name", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_username", "account_name", "action"]
    date_hierarchy = "at"
    readonly_fields = ["at", "actor_username", "action", "account_name", "details", "ip"]
    fields = readonly_fields

    def get_queryset(self, request):
        root = request.user.account
        events = AuditEvent.objects.all()
        if root.is_master:
            return events
        return events.filter(account__path__startswith=root.path)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
