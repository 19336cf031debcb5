"""Voicemail boxes: every box (an extension's, made with the extension, and standalone
shared boxes) with its settings and greetings; a new box's PIN and a reset PIN are shown
once, on the page the write redirects to (switchboard.views.once: a reload makes nothing)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pbx.actions.voicemail import (
    do_create_voicemail_box,
    do_delete_voicemail_box,
    do_set_voicemail_pin,
    do_update_voicemail_box,
)
from pbx.filtersets import VoicemailBoxFilterSet
from pbx.models import VoicemailBox
from pbx.portal.forms.voicemail import NewVoicemailBoxForm, VoicemailBoxForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from switchboard.views import Column
from switchboard.views.once import no_store, redirect_to_shown, take_shown


class _VoicemailPages:
    model = VoicemailBox
    verbose_name = "voicemail box"
    verbose_name_plural = "voicemail boxes"
    list_url_name = "portal:voicemail-list"
    create_url_name = "portal:voicemail-create"
    edit_url_name = "portal:voicemail-edit"
    delete_url_name = "portal:voicemail-delete"

    def show_pin(self: Any, box: VoicemailBox, pin: str) -> HttpResponse:
        return no_store(render(self.request, "portal/voicemail_pin.html", self.context(object=box, pin=pin)))

    def shown_pin(self: Any) -> HttpResponse | None:
        """The page showing the PIN the POST just made, or None (no token still waiting)."""
        shown = take_shown(self.request)
        box = shown and VoicemailBox.objects.filter(pk=shown["box"]).first()
        return self.show_pin(box, shown["pin"]) if box else None


class VoicemailBoxListView(_VoicemailPages, PortalListView):
    filterset_class = VoicemailBoxFilterSet
    columns = (
        Column("number", "Number", link=True),
        Column("name", "Name"),
        Column("extension", "Of", render=lambda box: f"Extension {box.extension.number}" if box.extension
               else "Shared"),
        Column("enabled", "Enabled", render=lambda box: "Yes" if box.enabled else "No"),
    )

    def get_queryset(self) -> models.QuerySet:
        return VoicemailBox.objects.select_related("extension").order_by("number")


class VoicemailBoxEditView(_VoicemailPages, PortalEditView):
    template_name = "portal/voicemail_edit.html"

    @property
    def form_class(self) -> type[forms.Form]:  # type: ignore[override]
        return NewVoicemailBoxForm if self.kwargs.get("pk") is None else VoicemailBoxForm

    def create(self, form: forms.Form) -> tuple[VoicemailBox, str]:
        values = dict(form.cleaned_data)
        return do_create_voicemail_box(self.identity.account, pin=values.pop("pin") or None,
                                       **self.writer, **values)

    def update(self, obj: VoicemailBox, form: forms.Form) -> VoicemailBox:
        return do_update_voicemail_box(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def get(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        if pk is None and (shown := self.shown_pin()) is not None:
            return shown
        return super().get(request, pk)

    def saved(self, obj: Any, *, created: bool) -> HttpResponse:
        if created:
            box, pin = obj
            return redirect_to_shown(self.request, box=box.pk, pin=pin)
        return super().saved(obj, created=created)


class VoicemailBoxDeleteView(_VoicemailPages, PortalDeleteView):
    def delete(self, obj: VoicemailBox) -> None:
        do_delete_voicemail_box(self.identity.account, obj, **self.writer)


class VoicemailPinView(_VoicemailPages, PortalPage):
    """Give the box a new random PIN: GET asks, POST shows it once."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        box = self.get_object(pk)
        self.authorize(self.identity)
        if (shown := self.shown_pin()) is not None:
            return shown
        return render(request, "portal/voicemail_pin_reset.html", self.context(object=box))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        box = self.get_object(pk)
        self.authorize(self.identity)
        box, pin = do_set_voicemail_pin(self.identity.account, box, **self.writer)
        return redirect_to_shown(request, box=box.pk, pin=pin)
