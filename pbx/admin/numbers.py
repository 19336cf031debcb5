"""Phone numbers (DIDs) in the master's and resellers' admin.

A user sees the numbers held in their account's subtree; the master's staff also see the
platform pool (numbers not yet assigned). Everything else is a 404. Nothing is edited in
place: numbers are imported (master), handed one step down, released one step up and
routed through pbx.numbers.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_tenants.utils import schema_context

from pbx.destinations import choices as destination_choices
from pbx.destinations import describe
from pbx.models import DestinationKind
from pbx.numbers import do_assign_number, do_import_numbers, do_release_number, do_route_number
from tenants.admin.site import ScopedAdmin, admin_site
from tenants.models import Account, PhoneNumber, Role, User
from tenants.scoping import NotInSubtree, visible_accounts
from tenants.validators import normalize_e164, validate_each

POOL = "pool"


def _is_master_admin(user: User) -> bool:
    return user.account is not None and user.account.is_master and user.role == Role.ADMIN


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


# --- forms ---------------------------------------------------------------------------


class ImportNumbersForm(forms.Form):
    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 30, "style": "font-family: monospace"}),
        help_text="One number per line, in E.164 form (e.g. +14165550100). Blank lines are ignored.",
    )

    def clean_numbers(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["numbers"].splitlines()]
        validate_each(lines, normalize_e164)
        found = [line for line in lines if line]
        if not found:
            raise ValidationError("Give at least one number.")
        return found


class AssignForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Assign to")

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        # One step down: the accounts directly below the actor's own.
        self.fields["account"].queryset = visible_accounts(actor).filter(depth=actor.account.depth + 1)


# A carrier's caller cannot "check voicemail" as an extension would.
ROUTABLE_KINDS = [kind for kind in DestinationKind.values if kind != DestinationKind.CHECK_VOICEMAIL]


class RouteForm(forms.Form):
    route = forms.ChoiceField(choices=[], label="Send calls to")

    def __init__(self, *args, destinations: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].choices = [("", "Not routed"), *destinations]


# --- the admin -----------------------------------------------------------------------


class HolderFilter(admin.SimpleListFilter):
    """The pool (master only) and the accounts of the user's subtree that hold numbers."""

    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        found = [(POOL, "Pool (not assigned)")] if request.user.account.is_master else []
        holders = visible_accounts(request.user).filter(numbers__isnull=False).distinct()
        return found + [(str(a.pk), a.name) for a in holders]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == POOL:
            return queryset.filter(account__isnull=True)
        try:
            return queryset.filter(account_id=int(value))
        except ValueError:
            return queryset.none()


@admin.register(PhoneNumber, site=admin_site)
class PhoneNumberAdmin(ScopedAdmin):
    list_display = ["e164", "holder", "route_label"]
    list_filter = [HolderFilter]
    search_fields = ["e164"]
    list_per_page = 200
    fields = readonly_fields = ["e164", "holder", "route_label", "caller_id_name", "created_at"]
    actions = ["assign_selected", "release_selected"]
    change_form_template = "admin/tenants/phonenumber/change_form.html"
    change_list_template = "admin/tenants/phonenumber/change_list.html"

    # --- scope and permissions ---

    def get_queryset(self, request):
        root = request.user.account
        inside = Q(account__path__startswith=root.path, account__deleted_at__isnull=True)
        if root.is_master:
            inside |= Q(account__isnull=True)
        return PhoneNumber.objects.filter(inside).select_related("account")

    def get_search_results(self, request, queryset, search_term):
        """By number, whatever the spacing: "+1 416-555 0100" finds +14165550100."""
        term = re.sub(r"[^\d+]", "", search_term)
        if not term:
            return queryset, False
        return queryset.filter(e164__contains=term), False

    def has_add_permission(self, request) -> bool:
        return False  # numbers are imported (import_view), never typed in a model form

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # only assign, release and route change a number

    # --- columns ---

    @admin.display(description="Account", ordering="account__path")
    def holder(self, obj: PhoneNumber) -> str:
        return obj.account.name if obj.account else "pool"

    @admin.display(description="Route", ordering="route")
    def route_label(self, obj: PhoneNumber) -> str:
        if not obj.route or obj.account is None:
            return "—"
        with schema_context(obj.account.schema_name):
            return describe(obj.route)

    # --- views ---

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("import/", view(self.import_view), name="tenants_phonenumber_import"),
            path("<path:object_id>/route/", view(self.route_view), name="tenants_phonenumber_route"),
            path("<path:object_id>/release/", view(self.release_view), name="tenants_phonenumber_release"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import": _is_master_admin(request.user)}
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            number = self._scoped_or_404(request, object_id)
            extra_context["number_tools"] = self._tools(request, number)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _tools(self, request, number: PhoneNumber) -> list[dict]:
        if request.user.role != Role.ADMIN or number.account is None:
            return []
        tools = [{"label": "Release", "url": "../release/", "method": "post"}]
        if not number.account.is_master:
            tools.insert(0, {"label": "Route", "url": "../route/", "method": "get"})
        return tools

    def _scoped_or_404(self, request, object_id) -> PhoneNumber:
        number = self.get_object(request, object_id)
        if number is None:
            raise Http404
        return number

    def _back(self, number: PhoneNumber):
        return redirect("admin:tenants_phonenumber_change", number.pk)

    def _render(self, request, template: str, title: str, **context):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": title, **context}
        return TemplateResponse(request, f"admin/tenants/phonenumber/{template}", context)

    def import_view(self, request):
        if not _is_master_admin(request.user):
            raise PermissionDenied
        form = ImportNumbersForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = do_import_numbers(request.user, form.cleaned_data["numbers"])
            except ValidationError as exc:
                form.add_error("numbers", exc.message_dict.get("numbers", exc.messages)
                               if hasattr(exc, "error_dict") else exc.messages)
            else:
                messages.success(request, f"Imported {len(created)} number(s) into the pool.")
                return redirect(reverse("admin:tenants_phonenumber_changelist") + f"?account={POOL}")
        return self._render(request, "import.html", "Import phone numbers", form=form)

    def route_view(self, request, object_id):
        number = self._scoped_or_404(request, object_id)
        if request.user.role != Role.ADMIN:
            raise PermissionDenied
        account = number.account
        if account is None or account.is_master:
            messages.error(request, "Assign the number to an account before routing it.")
            return self._back(number)
        with schema_context(account.schema_name):
            destinations = destination_choices(kinds=ROUTABLE_KINDS)
        form = RouteForm(request.POST or None, initial={"route": number.route},
                         destinations=destinations)
        if request.method == "POST" and form.is_valid():
            try:
                do_route_number(account, number, route=form.cleaned_data["route"], actor=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"{number.e164} routed.")
                return self._back(number)
        return self._render(request, "route.html", f"Route {number.e164}", form=form,
                            number=number)

    def release_view(self, request, object_id):
        number = self._scoped_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if request.user.role != Role.ADMIN:
            raise PermissionDenied
        self._release(request, [number])
        return redirect("admin:tenants_phonenumber_changelist")

    # --- bulk actions ---

    def _release(self, request, numbers) -> None:
        done = []
        for number in numbers:
            try:
                released = do_release_number(request.user, number)
            except (PermissionDenied, ValidationError, NotInSubtree) as exc:
                messages.error(request, f"{number.e164}: {_messages(exc) or 'not yours to release.'}")
                continue
            done.append(f"{released.e164} → {released.account.name if released.account else POOL}")
        if done:
            messages.success(request, "Released: " + ", ".join(done))

    @admin.action(description="Release selected numbers (one step up)")
    def release_selected(self, request, queryset):
        if request.user.role != Role.ADMIN:
            raise PermissionDenied
        self._release(request, queryset)

    @admin.action(description="Assign selected numbers to a sub-account")
    def assign_selected(self, request, queryset):
        if request.user.role != Role.ADMIN:
            raise PermissionDenied
        user = request.user
        applying = "apply" in request.POST
        form = AssignForm(request.POST if applying else None, actor=user)
        if applying and form.is_valid():
            target, done = form.cleaned_data["account"], []
            for number in queryset:
                try:
                    do_assign_number(user, number, target)
                except (PermissionDenied, ValidationError, NotInSubtree) as exc:
                    messages.error(request, f"{number.e164}: {_messages(exc) or 'not yours to assign.'}")
                    continue
                done.append(number.e164)
            if done:
                messages.success(request, f"Assigned to {target.name}: {', '.join(done)}")
            return None
        numbers = list(queryset)
        mine = [n for n in numbers if n.account_id == user.account_id
                or (n.account_id is None and _is_master_admin(user))]
        return self._render(
            request, "assign.html", "Assign phone numbers", form=form, numbers=numbers,
            held_elsewhere=[n for n in numbers if n not in mine],
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )
