"""Call-record posts we could not read (cdr_rejectedpost), for the master's staff only:
they are platform-wide and may name any tenant, so no reseller may see them; for anyone
else the pages are a 404. Read-only: a post is fixed by fixing the reader and replaying
it from the node's err-log-dir (docs/cdr.md)."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest

from cdr.models import RejectedPost
from tenants.admin.site import ScopedAdmin, admin_site

PREVIEW_BYTES = 4096


def _master_staff(request: HttpRequest) -> bool:
    account = getattr(request.user, "account", None)
    return admin_site.has_permission(request) and account is not None and account.is_master


@admin.register(RejectedPost, site=admin_site)
class RejectedPostAdmin(ScopedAdmin):
    list_display = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid", "reason"]
    search_fields = ["query_uuid", "reason", "remote_addr"]
    ordering = ["-received_at"]
    fields = readonly_fields = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid",
                                "content_type", "reason", "sha256", "body_preview"]

    @admin.display(description="Body (first 4 KB)")
    def body_preview(self, post: RejectedPost) -> str:
        return bytes(post.body[:PREVIEW_BYTES]).decode("utf-8", "replace")

    def has_module_permission(self, request) -> bool:
        return _master_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _master_staff(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not _master_staff(request):
            raise Http404
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not _master_staff(request):
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        raise Http404
