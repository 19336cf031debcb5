from django.contrib import admin
from django.db.models import BooleanField, Case, Value, When

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
        root = request.user.account
        events = AuditEvent.objects.select_related("actor__account")
        if root.is_master:
            return events.annotate(actor_inside=Value(True, output_field=BooleanField()))
        return events.filter(
            scope_path__startswith=root.path, account__path__startswith=root.path
        ).annotate(actor_inside=Case(
            When(actor__account__path__startswith=root.path, then=Value(True)),
            # Nobody acted (a sign-in lockout, a phone's feature code): nobody to hide. A
            # deleted actor keeps its name and stays hidden.
            When(actor__isnull=True, actor_username="", then=Value(True)),
            default=Value(False), output_field=BooleanField(),
        ))

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
