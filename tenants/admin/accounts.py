from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Value
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from tenants import actions
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.forms import AccountChangeForm, AccountCreateForm, MoveAccountForm
from tenants.forms.accounts import split_domains
from tenants.http import client_ip
from tenants.models import Account, Role
from tenants.scoping import may_manage, visible_account, visible_accounts

OPERATIONS = {
    "suspend": actions.do_suspend_account,
    "reactivate": actions.do_reactivate_account,
    "promote": actions.do_promote_to_reseller,
    "demote": actions.do_demote_to_customer,
}


class WithinFilter(admin.SimpleListFilter):
    """"Step into" a sub-account: show only its subtree."""

    title = "sub-tree of"
    parameter_name = "within"

    def lookups(self, request, model_admin):
        parents = visible_accounts(request.user).filter(
            kind__in=[Account.Kind.MASTER, Account.Kind.RESELLER]
        )
        return [(str(a.pk), a.name) for a in parents]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            root = visible_account(request.user, self.value())
        except Account.DoesNotExist:
            return queryset.none()
        return queryset.subtree_of(root)


def run_for_each(request, queryset, operation, done: str) -> None:
    ok, failed = 0, []
    for account in queryset:
        try:
            operation(request.user, account, ip=client_ip(request))
            ok += 1
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            failed.append(f"{account.name}: {text}")
    if ok:
        messages.success(request, f"{done}: {ok} account(s).")
    for line in failed:
        messages.error(request, line)


@admin.register(Account, site=admin_site)
class AccountAdmin(ScopedAdmin):
    list_display = ["tree_name", "kind", "primary_domain", "status_badge", "sub_accounts"]
    list_display_links = ["tree_name"]
    list_filter = [WithinFilter, "kind", "status"]
    search_fields = ["name", "domains__domain"]
    list_per_page = 100
    ordering = ["path"]
    readonly_fields = [
        "kind", "status", "parent_name", "created_at", "primary_domain", "alias_list",
    ]
    change_form_template = "admin/tenants/account/change_form.html"
    actions = ["suspend_selected", "reactivate_selected", "soft_delete_selected"]

    # --- scope and permissions ---

    def get_queryset(self, request):
        # Depth below the viewer's own account: drives the tree indent, and tells whether
        # an account's parent is inside the viewer's scope.
        return (
            visible_accounts(request.user)
            .annotate(depth_below_viewer=F("depth") - Value(request.user.account.depth))
            .prefetch_related("domains")
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        # Joining domains can repeat an account; distinct() on the ids keeps it one row.
        return queryset.filter(pk__in=queryset.values("pk")), False

    def has_add_permission(self, request) -> bool:
        return admin_site.has_permission(request) and request.user.role == Role.ADMIN

    def has_change_permission(self, request, obj=None) -> bool:
        if not admin_site.has_permission(request) or request.user.role != Role.ADMIN:
            return False
        return obj is None or may_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if not self.has_change_permission(request, obj):
            return False
        return obj is None or (not obj.is_master and obj.pk != request.user.account_id)

    # --- list columns ---

    @admin.display(description="Account", ordering="path")
    def tree_name(self, obj: Account):
        indent = obj.depth_below_viewer
        return format_html(
            '<span style="padding-left:{}em">{}{}</span>',
            indent * 1.5, "└ " if indent else "", obj.name,
        )

    @admin.display(description="SIP domain")
    def primary_domain(self, obj: Account):
        return obj.primary_domain_name

    @admin.display(description="Aliases")
    def alias_list(self, obj: Account):
        return ", ".join(d.domain for d in obj.domains.all() if not d.is_primary) or "—"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Account):
        colour = "#17692c" if obj.status == Account.Status.ACTIVE else "#9b1c1c"
        return format_html('<b style="color:{}">{}</b>', colour, obj.get_status_display())

    @admin.display(description="Sub-accounts")
    def sub_accounts(self, obj: Account):
        if not obj.can_have_children:
            return "—"
        url = reverse("admin:tenants_account_changelist") + f"?within={obj.pk}"
        return format_html('<a href="{}">{} below</a>', url, obj.numchild)

    @admin.display(description="Parent")
    def parent_name(self, obj: Account):
        parent = Account.objects.get_parent(obj)
        if parent is None:
            return "—"
        if obj.depth_below_viewer > 0:
            url = reverse("admin:tenants_account_change", args=[parent.pk])
            return format_html('<a href="{}">{}</a>', url, parent.name)
        return parent.name

    # --- forms ---

    def get_fieldsets(self, request, obj=None):
        limits = ("Limits", {"fields": ["max_concurrent_calls", "max_extensions", "allow_international",
                                       "allow_premium_rate"]})
        caller_id = ("Caller ID", {"fields": ["outbound_caller_id", "emergency_caller_id"]})
        settings = ("Settings", {"fields": ["timezone", "language"]})
        if obj is None:
            return [
                (None, {"fields": ["name", "kind", "parent"]}),
                ("Domains", {"fields": ["domain", "aliases"]}),
                settings, limits, caller_id,
                ("First admin (optional)", {"fields": ["admin_username", "admin_email", "admin_password"]}),
            ]
        about = (None, {"fields": ["name", "kind", "status", "parent_name", "created_at"]})
        if self.has_change_permission(request, obj):
            domains = ("Domains", {"fields": ["domain", "aliases"]})
        else:
            domains = ("Domains", {"fields": ["primary_domain", "alias_list"]})
        return [about, domains, settings, limits, caller_id]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return AccountChangeForm
        actor = request.user

        class CreateForm(AccountCreateForm):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return CreateForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            account = self.get_object(request, object_id)
            if account is None:
                raise Http404
            extra_context["account_tools"] = self._tools(request, account)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_form(self, request, form, change):
        ip = client_ip(request)
        if not change:
            return actions.do_create_account(
                request.user, ip=ip, admin_user=form.admin_user_kwargs(), **form.action_kwargs()
            )
        account = Account.objects.get(pk=form.instance.pk)
        actions.do_update_account(request.user, account, ip=ip, **form.update_kwargs())
        actions.do_set_domains(
            request.user, account, primary=form.cleaned_data["domain"],
            aliases=split_domains(form.cleaned_data.get("aliases", "")), ip=ip,
        )
        return account

    def save_model(self, request, obj, form, change):
        """Written by save_form through the actions layer."""

    def save_related(self, request, form, formsets, change):
        """Domains are written by save_form; there is nothing else."""

    # --- per-account tools ---

    def _tools(self, request, account: Account) -> list[dict]:
        user = request.user
        manage = may_manage(user, account) and account.pk != user.account_id
        master_admin = user.account.is_master and user.role == Role.ADMIN
        tools: list[dict] = []
        if account.pk != user.account_id and user.role == Role.ADMIN:
            tools.append({"label": "Use account", "url": "../use/", "method": "get"})
        if account.can_have_children:
            url = reverse("admin:tenants_account_changelist") + f"?within={account.pk}"
            tools.append({"label": "Sub-accounts", "url": url, "method": "get"})
        if manage:
            op = "reactivate" if account.status == Account.Status.SUSPENDED else "suspend"
            tools.append({"label": op.capitalize(), "url": f"../op/{op}/", "method": "post"})
        if master_admin and not account.is_master:
            if account.kind == Account.Kind.CUSTOMER:
                tools.append({"label": "Promote to reseller", "url": "../op/promote/", "method": "post"})
            elif account.kind == Account.Kind.RESELLER:
                tools.append({"label": "Demote to customer", "url": "../op/demote/", "method": "post"})
            tools.append({"label": "Move", "url": "../move/", "method": "get"})
        return tools

    def get_urls(self):
        own = [
            path("<path:object_id>/use/", self.admin_site.admin_view(self.use_view),
                 name="tenants_account_use"),
            path("<path:object_id>/move/", self.admin_site.admin_view(self.move_view),
                 name="tenants_account_move"),
            path("<path:object_id>/op/<str:operation>/",
                 self.admin_site.admin_view(self.operation_view), name="tenants_account_op"),
        ]
        return own + super().get_urls()

    def _scoped_or_404(self, request, object_id) -> Account:
        account = self.get_object(request, object_id)
        if account is None:
            raise Http404
        return account

    def _back(self, account: Account):
        return redirect("admin:tenants_account_change", account.pk)

    def use_view(self, request, object_id):
        account = self._scoped_or_404(request, object_id)
        if request.method == "POST":
            try:
                token = actions.do_grant_masquerade(request.user, account, ip=client_ip(request))
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
                return self._back(account)
            return redirect(account.portal_url(f"/masquerade/?token={token}"))
        context = {**self.admin_site.each_context(request), "account": account,
                   "opts": self.model._meta, "title": f"Use {account.name}"}
        return TemplateResponse(request, "admin/tenants/account/use.html", context)

    def move_view(self, request, object_id):
        account = self._scoped_or_404(request, object_id)
        if not (request.user.account.is_master and request.user.role == Role.ADMIN):
            raise PermissionDenied
        form = MoveAccountForm(request.POST or None, actor=request.user, account=account)
        if request.method == "POST" and form.is_valid():
            try:
                actions.do_move_account(
                    request.user, account, form.cleaned_data["new_parent"], ip=client_ip(request)
                )
            except ValidationError as exc:
                form.add_error("new_parent", exc.message_dict.get("parent", exc.messages))
            else:
                messages.success(request, f"{account.name} moved.")
                return self._back(account)
        context = {**self.admin_site.each_context(request), "account": account, "form": form,
                   "opts": self.model._meta, "title": f"Move {account.name}"}
        return TemplateResponse(request, "admin/tenants/account/move.html", context)

    def operation_view(self, request, object_id, operation):
        account = self._scoped_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if operation not in OPERATIONS:
            raise Http404
        try:
            OPERATIONS[operation](request.user, account, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{account.name}: {operation} done.")
        return self._back(account)

    def delete_view(self, request, object_id, extra_context=None):
        """Deleting is a soft delete; purge_accounts removes the data later."""
        account = self._scoped_or_404(request, object_id)
        if not self.has_delete_permission(request, account):
            raise PermissionDenied
        if request.method == "POST":
            try:
                actions.do_soft_delete_account(request.user, account, ip=client_ip(request))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return self._back(account)
            messages.success(request, f"{account.name} deleted. Its data is kept until purged.")
            return redirect("admin:tenants_account_changelist")
        context = {**self.admin_site.each_context(request), "account": account,
                   "opts": self.model._meta, "title": f"Delete {account.name}?",
                   "domains": format_html_join(", ", "{}", ((d.domain,) for d in account.domains.all()))}
        return TemplateResponse(request, "admin/tenants/account/soft_delete.html", context)

    # --- bulk actions ---

    @admin.action(description="Suspend selected accounts")
    def suspend_selected(self, request, queryset):
        run_for_each(request, queryset, actions.do_suspend_account, "Suspended")

    @admin.action(description="Reactivate selected accounts")
    def reactivate_selected(self, request, queryset):
        run_for_each(request, queryset, actions.do_reactivate_account, "Reactivated")

    @admin.action(description="Delete selected accounts (soft delete)")
    def soft_delete_selected(self, request, queryset):
        run_for_each(request, queryset, actions.do_soft_delete_account, "Deleted")
