"""The admin site for the master and resellers.

Nothing here uses Django's model permissions or ``is_superuser``: what a user sees is
their account's subtree (tenants.scoping), what they may do follows their role. Objects
outside the subtree answer 404, never 403, so their existence is not revealed.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from tenants.models import Role
from tenants.sessions import MASQUERADE_SESSION_KEY
from tenants.throttling import ThrottledSignInFormMixin, count_as_failed_sign_in


class StaffAuthenticationForm(ThrottledSignInFormMixin, AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        if not user.is_active or not user.may_use_admin:
            count_as_failed_sign_in(self.request, user.get_username())
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        if not user.account.is_effectively_active():
            raise ValidationError("This account is suspended.", code="suspended")


class SwitchboardAdminSite(admin.AdminSite):
    site_header = "Switchboard"
    site_title = "Switchboard admin"
    index_title = "Accounts and staff"
    login_form = StaffAuthenticationForm

    def has_permission(self, request) -> bool:
        # Asked for every model on every admin page: decide once per request.
        cached = getattr(request, "_switchboard_admin_allowed", None)
        if cached is None:
            cached = request._switchboard_admin_allowed = self._allowed(request)
        return cached

    def _allowed(self, request) -> bool:
        user = request.user
        return (
            user.is_authenticated
            # A session opened through "Use account" is for that tenant's portal only.
            and MASQUERADE_SESSION_KEY not in request.session
            and user.may_use_admin
            and not user.account.is_deleted
            and user.account.is_effectively_active()
        )


admin_site = SwitchboardAdminSite(name="admin")


class ScopedAdmin(admin.ModelAdmin):
    """get_queryset is the user's scope; an object outside it is a 404. Bulk actions are
    for the roles in ``action_roles`` only, and never Django's own delete (it would skip
    the actions layer)."""

    action_roles: tuple[str, ...] = (Role.ADMIN,)

    def get_actions(self, request):
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        if request.user.role not in self.action_roles:
            return {}
        return found

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def history_view(self, request, object_id, extra_context=None):
        """Django's history page names who changed the object; staff of accounts above
        the viewer are shown as "provider staff"."""
        response = super().history_view(request, object_id, extra_context)
        root = request.user.account
        for entry in response.context_data["action_list"]:
            account = entry.user.account
            entry.user_hidden = account is None or not account.is_within(root)
        return response

    def delete_view(self, request, object_id, extra_context=None):
        # Django checks the permission before the object: look it up first, so an object
        # outside the scope is a 404 like everywhere else, not a 403.
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().delete_view(request, object_id, extra_context)

    def has_module_permission(self, request) -> bool:
        return admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def is_master_staff(request: HttpRequest) -> bool:
    """Signed in to the admin as staff of the master account (the platform's operator)."""
    account = getattr(request.user, "account", None)
    return admin_site.has_permission(request) and account is not None and account.is_master


class PlatformOnlyAdmin(ScopedAdmin):
    """A read-only list of platform-wide rows (sign-in lockouts, rejected call-record
    posts) that only the master's staff see; for everyone else, like everything outside
    their scope, it is not there (404) rather than forbidden."""

    def has_module_permission(self, request) -> bool:
        return is_master_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_master_staff(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not is_master_staff(request):
            raise Http404
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not is_master_staff(request):
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        raise Http404
