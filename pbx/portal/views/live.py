"""The live pages: the conference center (rooms in use, their members, who is talking,
and a moderator's buttons) and the dashboard's live tiles (registered phones, calls in
progress, today's calls, voicemail waiting). Both are read from what the nodes report -- the conference
registry the node manager keeps (fsnodes.conference_registry), and ``show
registrations`` / ``show calls`` asked of the nodes (fsnodes.live) -- and both are polled
by htmx, which gets only the changing part of the page.

Operations go through the actions ``fsnodes.conferences.do_control_member`` /
``do_control_room``: found among this tenant's conferences only (another tenant's room or
member id is a 404), role-checked there (a read-only person's POST is refused with the
action's message, and their page has no buttons), sent to the node, audited."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from cdr.models import DailyUsage
from fsnodes import conferences, live
from pbx.models import Extension, VoicemailBox, VoicemailMessage
from pbx.portal.views.base import PortalPage
from tenants.models import PhoneNumber

CENTER = "portal:live-conferences"


class LivePage(PortalPage):
    model = Extension  # the generic base wants one; these pages show no model's rows
    verbose_name = "live conference"
    verbose_name_plural = "live conferences"
    list_url_name = CENTER


class ConferenceCenterView(LivePage):
    """Every running conference of the tenant; htmx polls it for the panel only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.panel(request)

    def panel(self, request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
        template = "portal/_live_conferences.html" if request.htmx else "portal/live_conferences.html"
        rooms = conferences.list_conferences(self.identity.account)
        return render(request, template, self.context(rooms=rooms, error=error), status=status)


class ConferenceOperationView(ConferenceCenterView):
    """One operation on a room (``lock``, ``unlock``, ``record``, ``stop-recording``) or on
    a member (``mute``, ``unmute``, ``deaf``, ``undeaf``, ``kick``). A GET only goes back
    to the center."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return redirect(CENTER)

    def post(self, request: HttpRequest, room: str, operation: str, member_id: int | None = None
             ) -> HttpResponse:
        account = self.identity.account
        allowed = conferences.MEMBER_OPERATIONS if member_id is not None else conferences.ROOM_OPERATIONS
        if operation not in allowed:
            raise Http404
        try:
            if member_id is None:
                conferences.do_control_room(account, room, operation, **self.writer)
            else:
                conferences.do_control_member(account, room, member_id, operation, **self.writer)
        except (conferences.ConferenceNotFound, conferences.MemberNotFound) as exc:
            raise Http404 from exc
        except conferences.NodeUnreachable as exc:
            return self.panel(request, error=str(exc), status=503)
        except conferences.CommandFailed as exc:
            return self.panel(request, error=str(exc), status=409)
        if request.htmx:
            return self.panel(request)
        messages.success(request, f"Conference {room}: {operation.replace('-', ' ')} done.")
        return redirect(CENTER)


class DashboardLiveView(LivePage):
    """The dashboard's live tiles (htmx loads and polls them)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        account = self.identity.account
        domains = list(account.domains.values_list("domain", flat=True))
        numbers = list(PhoneNumber.objects.filter(account=account).values_list("e164", flat=True))
        phones, asked = live.registrations(domains)
        calls, _ = live.calls(domains, numbers)
        zone = ZoneInfo(account.timezone)
        today = timezone.now().astimezone(zone).date()
        # The roll-up kept at ingest (cdr.rollups): a-legs, so a call counts once.
        usage = DailyUsage.objects.filter(account=account, day=today).aggregate(
            calls=Sum("calls"), answered=Sum("answered"))
        # Messages nobody has listened to yet, per box (the mirror of the nodes' voicemail
        # index the node manager keeps, pbx.models.VoicemailMessage).
        unheard = Count("messages", filter=Q(messages__folder=VoicemailMessage.Folder.INBOX,
                                             messages__read_at__isnull=True))
        waiting = list(VoicemailBox.objects.annotate(unheard=unheard).filter(unheard__gt=0)
                       .order_by("number"))
        now = timezone.now().timestamp()
        return render(request, "portal/_dashboard_live.html", self.context(
            phones=phones, calls=[(call, _duration(now - call.started) if call.started else "")
                                  for call in calls],
            nodes=asked.nodes, unreachable=asked.unreachable,
            all_unreachable=asked.nodes > 0 and len(asked.unreachable) == asked.nodes,
            today_calls=usage["calls"] or 0, today_answered=usage["answered"] or 0,
            waiting=waiting, waiting_total=sum(box.unheard for box in waiting), account=account,
            checked_at=datetime.now(zone)))


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
