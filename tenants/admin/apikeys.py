"""API keys in the admin: staff make keys for themselves (admins also for the users they
manage), see the keys of their subtree, and revoke them. A new key's token is shown on
the page that made it and never again (only its hash is stored)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from tenants import actions
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.forms import ApiKeyCreateForm
from tenants.http import client_ip
from tenants.models import ApiKey, Role


@admin.register(ApiKey, site=admin_site)
class ApiKeyAdmin(ScopedAdmin):
    # Every role may revoke (its own keys, or an admin the keys of those it manages); the
    # action says which it could not.
    action_roles = (Role.ADMIN, Role.READ_ONLY, Role.USER_ACTIVATION)
    list_display = ["name", "shown_prefix", "user", "account", "read_only", "state", "expires_at",
                    "last_used_at", "created_at"]
    list_filter = ["read_only"]
    search_fields = ["name", "prefix", "user__username", "account__name"]
    readonly_fields = ["name", "shown_prefix", "user", "account", "read_only", "state", "expires_at",
                       "last_used_at", "created_at", "created_by", "revoked_at"]
    fields = readonly_fields
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        root = request.user.account
        return ApiKey.objects.select_related("user", "account", "created_by").filter(
            account__path__startswith=root.path, account__deleted_at__isnull=True)

    @admin.display(description="Key")
    def shown_prefix(self, key: ApiKey) -> str:
        return key.shown_prefix

    @admin.display(description="State")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        if key.expires_at is not None and key.expires_at <= timezone.now():
            return "expired"
        return "active"

    def has_add_permission(self, request) -> bool:
        return admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Our own page: the action makes the key, and the answer to the POST shows its
        token (no redirect, so it passes through no cookie or session)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST or None, actor=request.user)
        token = key = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                key, token = actions.do_create_api_key(
                    data["user"].account, actor=request.user, user=data["user"], name=data["name"],
                    read_only=data["read_only"], expires_at=data["expires_at"], ip=client_ip(request))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "key": key, "token": token, "title": "New API key" if token is None else "API key made"}
        response = TemplateResponse(request, "admin/tenants/apikey/add.html", context)
        # The token must not be kept by a browser's or proxy's cache.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request, queryset):
        done = 0
        for key in queryset:
            try:
                actions.do_revoke_api_key(key.account, key, actor=request.user, ip=client_ip(request))
                done += 1
            except (PermissionDenied, ValidationError):
                messages.error(request, f"{key.name}: you may not revoke this key.")
        if done:
            messages.success(request, f"Revoked {done} key(s).")
