"""Trunks and their gateways in the master's and resellers' admin.

Scoped like tenants.admin: a user sees the trunks of their account's subtree, anything
else is a 404. Every write goes through carriers.actions; the admin never saves a model.
An action that refuses a submission (ValidationError) is shown on the form: the whole
submission is rolled back and the form is shown again with the action's errors on the
fields they name.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from carriers import actions
from carriers.forms import GatewayForm, TrunkChangeForm, TrunkForm, TrunkSourceForm
from carriers.models import Gateway, Trunk
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.http import client_ip
from tenants.models import Account, Role
from tenants.scoping import NotInSubtree, may_manage, visible_accounts


def _may_write(request, trunk: Trunk | None) -> bool:
    if not admin_site.has_permission(request) or request.user.role != Role.ADMIN:
        return False
    return trunk is None or may_manage(request.user, trunk.account)


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}


class OwnerFilter(admin.SimpleListFilter):
    """The accounts of the user's subtree that own trunks."""

    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        owners = visible_accounts(request.user).filter(trunks__isnull=False).distinct()
        return [(str(a.pk), a.name) for a in owners]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            return queryset.filter(account_id=int(self.value()))
        except ValueError:
            return queryset.none()


class GatewayInline(admin.StackedInline):
    """Stacked, a few fields a row: as one table row its thirteen columns stretched the
    trunk page to 2,576 px."""

    model = Gateway
    form = GatewayForm
    extra = 0
    min_num = 1
    ordering = ["position", "pk"]

    def get_fieldsets(self, request, obj=None):
        credentials: list = ["username"]
        if _may_write(request, obj):
            credentials.append(("password", "clear_password"))
        return [
            (None, {"fields": ["server", ("port", "transport"), "realm", "prefix", "progress_timeout",
                               ("position", "enabled")]}),
            ("Credentials", {"fields": [*credentials, "register"]}),
            ("Media", {"fields": ["codecs"]}),
        ]

    def has_view_permission(self, request, obj=None) -> bool:
        return admin_site.has_permission(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return _may_write(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _may_write(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _may_write(request, obj)


@admin.register(Trunk, site=admin_site)
class TrunkAdmin(ScopedAdmin):
    list_display = ["name", "account", "enabled", "emergency", "weight_cost", "gateway_count", "rule_list",
                    "pinging"]
    list_filter = [OwnerFilter, "enabled", "emergency"]
    search_fields = ["name"]
    ordering = ["account__path", "weight_cost", "name"]
    inlines = [GatewayInline]
    actions = ["delete_selected_trunks"]

    # --- scope and permissions ---

    def get_queryset(self, request):
        root = request.user.account
        return (
            Trunk.objects.filter(account__path__startswith=root.path, account__deleted_at__isnull=True)
            .select_related("account")
            .annotate(gateway_total=Count("gateways"))
            .order_by("account__path", "weight_cost", "name")
        )

    def has_add_permission(self, request) -> bool:
        return _may_write(request, None)

    def has_change_permission(self, request, obj=None) -> bool:
        return _may_write(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _may_write(request, obj)

    # --- list columns ---

    @admin.display(description="Gateways", ordering="gateway_total")
    def gateway_count(self, obj: Trunk) -> int:
        return obj.gateway_total

    @admin.display(description="Rules")
    def rule_list(self, obj: Trunk) -> str:
        return "  ".join(obj.rules) if obj.rules else "every number"

    @admin.display(description="Pings", ordering="ping_interval")
    def pinging(self, obj: Trunk) -> str:
        if not obj.ping_interval:
            return "off"
        return f"every {obj.ping_interval} s, down after {obj.ping_failures} unanswered"

    # --- the form ---

    def get_fieldsets(self, request, obj=None):
        about = ["account", "name", "enabled", "emergency", "weight_cost"]
        return [
            (None, {"fields": about}),
            ("Rules and the number sent", {"fields": ["rules", "number_format", "national_country"]}),
            ("Caller ID", {"fields": ["caller_id_regex", "caller_id_prefix", "caller_id_value",
                                      "send_asserted_identity"]}),
            ("Gateway health (SIP OPTIONS pings)", {"fields": [("ping_interval", "ping_failures")]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen once: no action moves a trunk to another account.
        return ["account"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        actor = request.user
        errors = getattr(request, "_trunk_action_errors", None)
        base = TrunkForm if obj is None else TrunkChangeForm

        class Form(base):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, action_errors=errors, **kw)

        return Form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Django runs the view in a transaction: an action's ValidationError rolls the
        whole submission back, and the same POST is shown again with the errors."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NotInSubtree as exc:
            raise Http404 from exc
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, "_trunk_action_errors"):
                raise
            request._trunk_action_errors = _error_dict(exc)
            return super().changeform_view(request, object_id, form_url, extra_context)

    # --- writes, all through carriers.actions ---

    def save_form(self, request, form, change):
        """Nothing is written here: Django calls save_form before it validates the
        inline gateways. save_related writes, once the form and the inlines are valid."""
        return form.instance

    def save_model(self, request, obj, form, change):
        """Written by save_related through carriers.actions."""

    def save_related(self, request, form, formsets, change):
        if change:
            fields = form.trunk_fields(only_changed=True)
            if fields:
                actions.do_update_trunk(request.user, Trunk.objects.get(pk=form.instance.pk),
                                        ip=client_ip(request), **fields)
            for formset in formsets:
                self.save_formset(request, form, formset, change)
            return
        [formset] = formsets
        gateway_forms = [f for f in formset.forms
                         if f.cleaned_data and not formset._should_delete_form(f)]
        data = form.cleaned_data
        trunk = actions.do_create_trunk(
            request.user, data["account"],
            gateways=[f.action_fields() for f in gateway_forms], ip=client_ip(request),
            **form.trunk_fields(only_changed=False),
        )
        # The admin logs and redirects to the object save_form returned.
        form.instance.pk, form.instance._state.adding = trunk.pk, False
        formset.new_objects = list(trunk.gateways.all())
        formset.changed_objects, formset.deleted_objects = [], []

    def save_formset(self, request, form, formset, change):
        trunk = Trunk.objects.get(pk=form.instance.pk)
        ip = client_ip(request)
        new, changed, removed = [], [], []
        for gateway_form in formset.forms:
            if not gateway_form.cleaned_data:
                continue  # an untouched extra row
            existing = gateway_form.instance.pk is not None
            if formset._should_delete_form(gateway_form):
                if existing:
                    removed.append(gateway_form.instance.pk)
                continue
            fields = gateway_form.action_fields()
            if not existing:
                if gateway_form.has_changed():
                    new.append(actions.do_save_gateway(request.user, trunk, None, ip=ip, **fields))
            elif fields:
                gateway = Gateway.objects.get(pk=gateway_form.instance.pk, trunk=trunk)
                gateway = actions.do_save_gateway(request.user, trunk, gateway, ip=ip, **fields)
                changed.append((gateway, [f for f in gateway_form.changed_data if f != "clear_password"]))
        # Removals last, so a trunk's only gateway can be replaced in one submission.
        deleted = []
        for pk in removed:
            gateway = Gateway.objects.get(pk=pk, trunk=trunk)
            actions.do_remove_gateway(request.user, gateway, ip=ip)
            deleted.append(gateway)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = new, changed, deleted

    def delete_model(self, request, obj):
        actions.do_delete_trunk(request.user, obj, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        for trunk in queryset:
            actions.do_delete_trunk(request.user, trunk, ip=client_ip(request))

    @admin.action(description="Delete selected trunks")
    def delete_selected_trunks(self, request, queryset):
        done = 0
        for trunk in queryset:
            try:
                actions.do_delete_trunk(request.user, trunk, ip=client_ip(request))
                done += 1
            except PermissionDenied as exc:
                messages.error(request, f"{trunk.name}: {exc}")
        if done:
            messages.success(request, f"Deleted {done} trunk(s).")

    # --- Parent/Local ---

    def get_urls(self):
        own = [
            path("sources/", self.admin_site.admin_view(self.sources_view), name="carriers_trunk_sources"),
        ]
        return own + super().get_urls()

    def sources_view(self, request):
        """Which trunks each account's calls use: its parent's (the default) or its own."""
        may_write = request.user.role == Role.ADMIN
        if request.method == "POST" and not may_write:
            raise PermissionDenied
        initial = {}
        if "account" in request.GET:
            try:
                chosen = visible_accounts(request.user).get(pk=int(request.GET["account"]))
            except (Account.DoesNotExist, ValueError) as exc:
                raise Http404 from exc
            initial = {"account": chosen.pk, "source": chosen.trunk_source}
        form = TrunkSourceForm(request.POST or None, actor=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            account = form.cleaned_data["account"]
            try:
                actions.do_set_trunk_source(request.user, account, form.cleaned_data["source"],
                                            ip=client_ip(request))
            except ValidationError as exc:
                for messages_ in _error_dict(exc).values():
                    form.add_error(None, messages_)
            else:
                label = Account.TrunkSource(form.cleaned_data["source"]).label
                messages.success(request, f"{account.name} now uses {label[0].lower()}{label[1:]}.")
                return redirect("admin:carriers_trunk_sources")
        accounts = (
            visible_accounts(request.user)
            .exclude(kind=Account.Kind.MASTER)
            .annotate(trunk_total=Count("trunks"))
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Outbound trunks per account",
            "form": form if may_write else None,
            "accounts": accounts,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/carriers/trunk/sources.html", context)
