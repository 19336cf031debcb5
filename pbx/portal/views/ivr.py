"""Auto attendants (IVR menus): the menu's settings on the generic pages, and its keys,
each chosen with the destination picker, written together by ``do_set_ivr_options``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from pbx.actions.ivr import do_create_ivr, do_delete_ivr, do_set_ivr_options, do_update_ivr
from pbx.destinations import describe
from pbx.filtersets import IvrFilterSet
from pbx.models import Ivr
from pbx.portal.forms.ivr import KEY_FIELD, IvrForm, IvrKeysForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from switchboard.views import Column, show_action_errors


class _IvrPages:
    model = Ivr
    verbose_name = "auto attendant"
    verbose_name_plural = "auto attendants"
    list_url_name = "portal:ivr-list"
    create_url_name = "portal:ivr-create"
    edit_url_name = "portal:ivr-edit"
    delete_url_name = "portal:ivr-delete"


def _keys(ivr: Ivr) -> str:
    return ", ".join(f"{option.key} → {describe(option.destination)}" for option in ivr.options.all()) or "—"


class IvrListView(_IvrPages, PortalListView):
    filterset_class = IvrFilterSet
    columns = (
        Column("name", "Name", link=True),
        Column("number", "Number", render=lambda ivr: ivr.number or "—"),
        Column("options", "Keys", render=_keys),
        Column("exit_destination", "After the last attempt",
               render=lambda ivr: describe(ivr.exit_destination)),
    )

    def get_queryset(self) -> models.QuerySet:
        return Ivr.objects.prefetch_related("options").order_by("name")


class IvrEditView(_IvrPages, PortalEditView):
    form_class = IvrForm
    template_name = "portal/ivr_edit.html"

    def initial(self, obj: Ivr) -> dict[str, Any]:
        return {**super().initial(obj), "number": obj.number or ""}

    def create(self, form: forms.Form) -> Ivr:
        return do_create_ivr(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: Ivr, form: forms.Form) -> Ivr:
        return do_update_ivr(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: Ivr | None, keys_form: IvrKeysForm | None = None) -> dict[str, Any]:
        if obj is None:
            return {}
        if keys_form is None:
            chosen = {option.key: option.destination for option in obj.options.all()}
            keys_form = IvrKeysForm(initial={name: chosen.get(key, "") for key, name in KEY_FIELD.items()})
            if not self.may_write:
                for field in keys_form.fields.values():
                    field.disabled = True
        return {"keys_form": keys_form}


class IvrDeleteView(_IvrPages, PortalDeleteView):
    def delete(self, obj: Ivr) -> None:
        do_delete_ivr(self.identity.account, obj, **self.writer)


class IvrKeysView(_IvrPages, PortalPage):
    """POST: the whole key map at once; its refusals ("Key 1: ...") shown above the keys."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        ivr = self.get_object(pk)
        self.authorize(self.identity)
        keys_form = IvrKeysForm(request.POST)
        if keys_form.is_valid():
            try:
                do_set_ivr_options(self.identity.account, ivr, keys_form.options(), **self.writer)
            except ValidationError as error:
                show_action_errors(keys_form, error)
            else:
                messages.success(request, f"Keys of {ivr} saved.")
                return redirect(self.url(self.edit_url_name, ivr))
        edit = IvrEditView()
        edit.setup(request, pk=pk)
        edit.identity = self.identity
        return render(request, edit.template_name, edit.context(
            object=ivr, form=edit.build_form(ivr), delete_url=edit.url(edit.delete_url_name, ivr),
            **edit.extra_context(ivr, keys_form)), status=400)
