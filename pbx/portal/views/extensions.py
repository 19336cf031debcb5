"""Extensions and their devices. A device's SIP secret is shown once, on the page that
answers its creation or its regeneration (stored encrypted; never shown again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from pbx.actions.extensions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.filtersets import ExtensionFilterSet
from pbx.models import Device, Extension
from pbx.portal.forms.extensions import DeviceForm, ExtensionForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from pbx.portal.views.endusers import login_context
from switchboard.views import Column, show_action_errors
from switchboard.views.once import no_store, redirect_to_shown, take_shown


def _forwarding(extension: Extension) -> str:
    conditions = (("forward_all", "all"), ("forward_busy", "busy"), ("forward_no_answer", "no answer"),
                  ("forward_unregistered", "unregistered"))
    on = [label for flag, label in conditions if getattr(extension, flag)]
    return ", ".join(on) or "—"


class _ExtensionPages:
    model = Extension
    verbose_name = "extension"
    verbose_name_plural = "extensions"
    list_url_name = "portal:extension-list"
    create_url_name = "portal:extension-create"
    edit_url_name = "portal:extension-edit"
    delete_url_name = "portal:extension-delete"

    def write(self: Any, action: Any, *args: Any, **fields: Any) -> Any:
        """Call ``action`` on this account as the person asking, from their address."""
        return action(self.identity.account, *args, **self.writer, **fields)


class ExtensionListView(_ExtensionPages, PortalListView):
    filterset_class = ExtensionFilterSet
    columns = (
        Column("number", "Number", link=True),
        Column("name", "Name"),
        Column("enabled", "Enabled", render=lambda e: "Yes" if e.enabled else "No"),
        Column("do_not_disturb", "Do not disturb", render=lambda e: "On" if e.do_not_disturb else "—"),
        Column("forward_all", "Forwarding", render=_forwarding),
        Column("devices", "Devices", render=lambda e: e.device_count),
    )

    def get_queryset(self) -> models.QuerySet:
        return Extension.objects.annotate(device_count=models.Count("devices")).order_by("number")


class ExtensionEditView(_ExtensionPages, PortalEditView):
    form_class = ExtensionForm
    template_name = "portal/extension_edit.html"

    def create(self, form: forms.Form) -> Extension:
        values = {name: value for name, value in form.cleaned_data.items() if name != "voicemail_pin"}
        return self.write(do_create_extension, voicemail_pin=form.cleaned_data["voicemail_pin"] or None,
                          **values)

    def update(self, obj: Extension, form: forms.Form) -> Extension:
        values = self.changed_values(form)
        pin = values.pop("voicemail_pin", None) or None
        return self.write(do_update_extension, obj, voicemail_pin=pin, **values)

    def extra_context(self, obj: Extension | None) -> dict[str, Any]:
        if obj is None:
            return {}
        return {"devices": list(obj.devices.all()), "device_form": DeviceForm(),
                "call_blocks": list(obj.call_blocks.order_by("pattern", "pk")),
                **login_context(self.identity.account, obj, self.identity.user)}


class ExtensionDeleteView(_ExtensionPages, PortalDeleteView):
    def delete(self, obj: Extension) -> None:
        self.write(do_delete_extension, obj)


class _DevicePages(_ExtensionPages):
    secret_template = "portal/device_secret.html"

    def show_secret(self: Any, device: Device, secret: str) -> HttpResponse:
        return no_store(render(self.request, self.secret_template, self.context(
            device=device, secret=secret, extension=device.extension,
            domain=self.identity.account.primary_domain_name)))

    def shown_secret(self: Any) -> HttpResponse | None:
        """The page showing the secret the POST just made (switchboard.views.once), or
        None when this GET carries no token still waiting (a reload: the form again)."""
        shown = take_shown(self.request)
        device = shown and Device.objects.select_related("extension").filter(pk=shown["device"]).first()
        return self.show_secret(device, shown["secret"]) if device else None


class DeviceCreateView(_DevicePages, PortalPage):
    """Add a device (SIP credential) to an extension: GET the form, POST adds it and
    redirects to the page showing its secret once."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        self.authorize(self.identity)
        if (shown := self.shown_secret()) is not None:
            return shown
        return render(request, "portal/device_add.html", self.context(extension=extension, form=DeviceForm()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        self.authorize(self.identity)
        form = DeviceForm(request.POST)
        if form.is_valid():
            try:
                device, secret = self.write(do_add_device, extension, **form.cleaned_data)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                return redirect_to_shown(request, device=device.pk, secret=secret)
        return render(request, "portal/device_add.html", self.context(extension=extension, form=form),
                      status=400)


class DeviceEditView(_DevicePages, PortalPage):
    """A device's label, vendor, model, MAC address and on/off (``do_update_device``);
    its secret changes on its own page. Every role reads it; only admins write."""

    template_name = "portal/device_edit.html"

    def get_object(self, pk: Any) -> Device:
        return get_object_or_404(Device.objects.select_related("extension"), pk=pk)

    def form(self, device: Device, data: Any = None) -> DeviceForm:
        form = DeviceForm(data, initial={name: getattr(device, name) for name in DeviceForm.Meta.fields})
        if not self.may_write:
            for field in form.fields.values():
                field.disabled = True
        return form

    def page(self, device: Device, form: DeviceForm, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name,
                      self.context(device=device, extension=device.extension, form=form), status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_object(pk)
        return self.page(device, self.form(device))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_object(pk)
        self.authorize(self.identity)
        form = self.form(device, request.POST)
        if form.is_valid():
            try:
                self.write(do_update_device, device,
                           **{name: form.cleaned_data[name] for name in form.changed_data})
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, f"Device {device.username} saved.")
                return redirect(self.url(self.edit_url_name, device.extension))
        return self.page(device, form, status=400)


class DeviceSecretView(_DevicePages, PortalPage):
    """Give a device a new SIP secret (the old one stops working): GET asks, POST makes
    it and redirects to the page showing it once."""

    def get_object(self, pk: Any) -> Device:
        return get_object_or_404(Device.objects.select_related("extension"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_object(pk)
        self.authorize(self.identity)
        if (shown := self.shown_secret()) is not None:
            return shown
        return render(request, "portal/device_regenerate.html", self.context(device=device))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_object(pk)
        self.authorize(self.identity)
        device, secret = self.write(do_update_device, device, rotate_secret=True)
        messages.success(request, f"Device {device.username} has a new secret; phones using the old one "
                                  "stop registering.")
        return redirect_to_shown(request, device=device.pk, secret=secret)


class DeviceDeleteView(_DevicePages, PortalDeleteView):
    verbose_name = "device"

    def get_queryset(self) -> models.QuerySet:
        return Device.objects.select_related("extension")

    def delete(self, obj: Device) -> None:
        self.write(do_remove_device, obj)
        self.deleted_from = obj.extension

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        response = super().post(request, pk)
        if response.status_code == 302:
            response["Location"] = self.url(self.edit_url_name, self.deleted_from)
        return response
