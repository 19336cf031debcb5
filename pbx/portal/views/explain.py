""""Where does this call go?": the route explainer (``pbx.explain``) as a page, each hop
linked to the portal page of the object it names."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from pbx.explain import Decision, explain_route
from pbx.models import Destination, DestinationKind, Extension, RingGroup
from pbx.portal.forms.explain import ExplainForm
from pbx.portal.views.base import PortalPage
from pbx.routing import GoTo, Ring

# The portal page of each kind of object a hop can name (kinds without a page yet are
# shown unlinked).
OBJECT_PAGES = {
    DestinationKind.EXTENSION: "portal:extension-edit",
    DestinationKind.RING_GROUP: "portal:ring-group-edit",
    DestinationKind.CONFERENCE: "portal:conference-room-edit",
    DestinationKind.IVR: "portal:ivr-edit",
    DestinationKind.VOICEMAIL: "portal:voicemail-edit",
    DestinationKind.SCHEDULE: "portal:schedule-edit",
    DestinationKind.QUEUE: "portal:queue-edit",
}


@dataclass(frozen=True)
class Hop:
    decision: Decision
    link: str | None

    @property
    def indent(self) -> int:
        return self.decision.depth


def page_of(destination: Destination | None) -> str | None:
    if destination is None or destination.pk is None or destination.kind not in OBJECT_PAGES:
        return None
    try:
        return reverse(OBJECT_PAGES[destination.kind], kwargs={"pk": destination.pk})
    except NoReverseMatch:
        return None


def _object_numbered(number: str) -> Destination | None:
    """The extension or ring group with this number (in the current schema), as a destination."""
    for kind, model in ((DestinationKind.EXTENSION, Extension), (DestinationKind.RING_GROUP, RingGroup)):
        pk = model.objects.filter(number=number).values_list("pk", flat=True).first() if number else None
        if pk is not None:
            return Destination(kind, str(pk))
    return None


class ExplainView(PortalPage):
    """Read-only for every role: it changes nothing."""

    model = Extension
    verbose_name = "route"
    verbose_name_plural = "routes"
    list_url_name = "portal:explain"

    def get(self, request: HttpRequest) -> HttpResponse:
        account = self.identity.account
        form = ExplainForm(request.GET or None)
        hops: list[Hop] = []
        if form.is_valid():
            at = form.cleaned_data["at"]
            if at is not None:
                zone = zoneinfo.ZoneInfo(account.timezone)
                at = timezone.make_aware(at.replace(tzinfo=None), zone)
            decisions = explain_route(account, form.cleaned_data["caller"].strip(),
                                      form.cleaned_data["dialed"].strip(), at)
            with schema_context(account.schema_name):
                caller = _object_numbered(form.cleaned_data["caller"].strip())
                # Where the call is: the object dialed, then each destination it goes to.
                here = _object_numbered(form.cleaned_data["dialed"].strip())
            for decision in decisions:
                if decision.rule == "caller":
                    link = page_of(caller)
                elif isinstance(decision.final, GoTo):
                    here = decision.final.destination
                    link = page_of(here)
                else:
                    # The object the call is at rings.
                    link = page_of(here) if isinstance(decision.final, Ring) else None
                hops.append(Hop(decision, link))
        return render(request, "portal/explain.html", self.context(form=form, hops=hops, asked=form.is_bound))
