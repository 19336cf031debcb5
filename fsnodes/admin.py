"""Admin → SIP authentication blocks (fsnodes.auth_guard): who was blocked, from where,
after how many wrong passwords, until when, and who cleared it. Scoped like the rest of
the admin: staff see the user blocks of their own account and the accounts below it;
address blocks, which span tenants, only the master's staff. Admins clear a block with
the list's action (audited)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from fsnodes.auth_guard import blocks_visible_to, do_clear_auth_block
from fsnodes.models import AuthBlock
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.http import client_ip


class ActiveFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No (expired or cleared)")]

    def queryset(self, request, queryset):
        live = {"cleared_at__isnull": True, "expires_at__gt": timezone.now()}
        if self.value() == "yes":
            return queryset.filter(**live)
        if self.value() == "no":
            return queryset.exclude(**live)
        return queryset


@admin.register(AuthBlock, site=admin_site)
class AuthBlockAdmin(ScopedAdmin):
    list_display = ["started_at", "kind", "who", "account", "address", "failures", "expires_at",
                    "in_force", "cleared_by"]
    list_filter = [ActiveFilter, "kind"]
    search_fields = ["user_id", "domain", "address"]
    actions = ["clear_blocks"]
    fields = readonly_fields = ["kind", "account", "user_id", "domain", "address", "failures", "started_at",
                                "expires_at", "cleared_at", "cleared_by"]

    def get_queryset(self, request):
        return blocks_visible_to(request.user)

    @admin.display(description="SIP user")
    def who(self, block: AuthBlock) -> str:
        return f"{block.user_id}@{block.domain}" if block.kind == AuthBlock.Kind.USER else "—"

    @admin.display(description="In force", boolean=True)
    def in_force(self, block: AuthBlock) -> bool:
        return block.active

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the rows are the history; a block ends by clearing it

    @admin.action(description="Clear the selected blocks (the phones may authenticate again)")
    def clear_blocks(self, request, queryset):
        cleared = 0
        for block in queryset.filter(cleared_at__isnull=True):
            do_clear_auth_block(request.user, block, ip=client_ip(request))
            cleared += 1
        messages.success(request, f"Cleared {cleared} block(s).")
