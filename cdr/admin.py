"""Call-record posts we could not read (cdr_rejectedpost), for the master's staff only:
they are platform-wide and may name any tenant, so no reseller may see them; for anyone
else the pages are a 404. Read-only: a post is fixed by fixing the reader and replaying
it from the node's err-log-dir (docs/cdr.md)."""

from __future__ import annotations

from django.contrib import admin

from cdr.models import RejectedPost
from tenants.admin.site import PlatformOnlyAdmin, admin_site

PREVIEW_BYTES = 4096


@admin.register(RejectedPost, site=admin_site)
class RejectedPostAdmin(PlatformOnlyAdmin):
    list_display = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid", "reason"]
    search_fields = ["query_uuid", "reason", "remote_addr"]
    ordering = ["-received_at"]
    fields = readonly_fields = ["received_at", "last_seen_at", "attempts", "remote_addr", "query_uuid",
                                "content_type", "reason", "sha256", "body_preview"]

    @admin.display(description="Body (first 4 KB)")
    def body_preview(self, post: RejectedPost) -> str:
        return bytes(post.body[:PREVIEW_BYTES]).decode("utf-8", "replace")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
