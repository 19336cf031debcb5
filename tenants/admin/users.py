from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from tenants import actions
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.forms import StaffPasswordForm, StaffUserChangeForm, StaffUserCreateForm
from tenants.http import client_ip
from tenants.models import Role, User
from tenants.scoping import may_change_user, may_toggle_user


@admin.register(User, site=admin_site)
class StaffUserAdmin(ScopedAdmin, DjangoUserAdmin):
    action_roles = (Role.ADMIN, Role.USER_ACTIVATION)
    list_display = ["username", "email", "account", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name", "account__name"]
    ordering = ["username"]
    readonly_fields = ["last_login", "date_joined", "account"]
    actions = ["enable_selected", "disable_selected"]
    add_fieldsets = [
        (None, {"fields": ["username", "password", "account", "role"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
    ]

    def get_queryset(self, request):
        root = request.user.account
        return User.objects.select_related("account").filter(
            account__path__startswith=root.path, account__deleted_at__isnull=True
        )

    def has_add_permission(self, request) -> bool:
        return admin_site.has_permission(request) and request.user.role == Role.ADMIN

    def has_change_permission(self, request, obj=None) -> bool:
        if not admin_site.has_permission(request):
            return False
        if request.user.role == Role.USER_ACTIVATION:
            return obj is None or may_toggle_user(request.user, obj)
        return request.user.role == Role.ADMIN and (obj is None or may_change_user(request.user, obj))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        login = ["username", "account", "role", "is_active"]
        if self._may_set_password(request, obj):
            login.insert(1, "password_link")
        return [
            (None, {"fields": login}),
            ("Person", {"fields": ["first_name", "last_name", "email"]}),
            ("Activity", {"fields": ["last_login", "date_joined"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["username", "password_link", *self.readonly_fields]
        if request.user.role == Role.USER_ACTIVATION:
            return [*fixed, "role", "first_name", "last_name", "email"]
        return fixed

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            fields = [f for f in StaffUserChangeForm.Meta.fields
                      if f not in self.get_readonly_fields(request, obj)]
            return super().get_form(request, obj, change=change, form=StaffUserChangeForm,
                                    fields=fields)
        actor = request.user

        class CreateForm(StaffUserCreateForm):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return CreateForm

    def save_form(self, request, form, change):
        ip = client_ip(request)
        data = form.cleaned_data
        if not change:
            return actions.do_create_staff_user(
                request.user, account=data["account"], username=data["username"],
                password=data["password"], email=data.get("email", ""), role=data["role"],
                first_name=data.get("first_name", ""), last_name=data.get("last_name", ""), ip=ip,
            )
        user = User.objects.get(pk=form.instance.pk)
        changed = {f: data[f] for f in form.changed_data if f in data}
        if request.user.role == Role.USER_ACTIVATION:
            if "is_active" in changed:
                actions.do_set_user_active(request.user, user, changed["is_active"], ip=ip)
            return user
        if changed:
            actions.do_update_staff_user(request.user, user, ip=ip, **changed)
        return user

    @staticmethod
    def _may_set_password(request, user: User) -> bool:
        return request.user.role == Role.ADMIN and may_change_user(request.user, user)

    @admin.display(description="Password")
    def password_link(self, obj: User) -> str:
        """As on Django's own user page: passwords are never shown, the form sets one."""
        url = reverse(f"{admin_site.name}:auth_user_password_change", args=[obj.pk])
        return format_html('Passwords are not stored in a readable form. Set a new one with '
                           '<a href="{}">this form</a>.', url)

    def user_change_password(self, request, id, form_url=""):
        """Our own page in place of Django's (whose form writes the password itself, and
        can also make it unusable): the password is set by the same action as the API's
        ``…/set-password/``, tenants.actions.do_set_staff_password, with its rules (the
        password validators), its role check and its audit event. A user outside your
        subtree is absent (404); user-activation and read-only staff, who may open the
        user's page, get 403. Setting your own keeps your session (a new key, as
        Django does); the user's other sessions end with the old password."""
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if not self._may_set_password(request, user):
            raise PermissionDenied
        form = StaffPasswordForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                actions.do_set_staff_password(request.user, user, form.cleaned_data["password1"],
                                              ip=client_ip(request))
            except ValidationError as exc:
                for message in exc.message_dict.get("password", exc.messages):
                    form.add_error("password1", message)
            else:
                if user.pk == request.user.pk:
                    update_session_auth_hash(request, user)
                messages.success(request, f"The password of {user.username} is set.")
                return redirect(reverse(f"{admin_site.name}:tenants_user_change", args=[user.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "original": user, "title": f"Set the password of {user.username}"}
        return TemplateResponse(request, "admin/tenants/user/set_password.html", context)

    def save_model(self, request, obj, form, change):
        """Written by save_form through the actions layer."""

    def save_related(self, request, form, formsets, change):
        """Staff users have no related objects edited here."""

    def _set_active(self, request, queryset, active: bool) -> None:
        done = 0
        for user in queryset:
            try:
                actions.do_set_user_active(request.user, user, active, ip=client_ip(request))
                done += 1
            except (PermissionDenied, ValidationError):
                messages.error(request, f"{user.username}: you may not change this user.")
        if done:
            messages.success(request, f"{'Enabled' if active else 'Disabled'} {done} user(s).")

    @admin.action(description="Enable selected users")
    def enable_selected(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Disable selected users")
    def disable_selected(self, request, queryset):
        self._set_active(request, queryset, False)
