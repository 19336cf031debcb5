"""The destination picker's second part for one kind (htmx swaps it in when the kind
select changes): the select of that kind's objects, or the number box."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from pbx.forms.destinations import KIND_SUFFIX, DestinationPicker
from pbx.models import Extension
from pbx.models.destinations import OBJECT_KINDS, DestinationKind
from pbx.portal.views.base import PortalPage

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DestinationOptionsView(PortalPage):
    model = Extension
    verbose_name = "destination"
    verbose_name_plural = "destinations"
    list_url_name = "portal:dashboard"

    def get(self, request: HttpRequest) -> HttpResponse:
        name, widget_id = request.GET.get("name", ""), request.GET.get("id", "")
        if not _NAME.match(name) or not _NAME.match(widget_id):
            return HttpResponseBadRequest("name and id are a form field's name and id.")
        kind = request.GET.get(name + KIND_SUFFIX, "")
        if kind and kind not in DestinationKind.values:
            return HttpResponseBadRequest("Unknown kind of destination.")
        value = f"{kind}:" if kind in OBJECT_KINDS or kind == DestinationKind.EXTERNAL else kind
        context = DestinationPicker().get_context(name, value, {"id": widget_id})
        return render(request, "pbx/widgets/_destination_target.html", context)
