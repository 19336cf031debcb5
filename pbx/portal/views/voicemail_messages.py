"""A voicemail box's messages for the account's administrators: the list (new / read,
caller, length), each playable in the page (``<audio>`` on the audio view below, byte
ranges answered so the player can seek), downloadable, marked read or unread and deleted
in place with htmx (a plain form POST works too). Everything goes through
pbx.actions.voicemail_messages: the role check is there (read-only staff listen, only
admins change), the node commands too.

The box comes from the tenant's schema (another tenant's box id is 404) and a message
from that box (a uuid of another box is 404)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from fsnodes.manager import get_client
from fsnodes.voicemail_messages import reconcile_box
from pbx.actions.voicemail_messages import (
    RecordingUnavailable,
    do_delete_message,
    do_mark_message_read,
    get_message,
    list_messages,
    message_audio,
)
from pbx.filtersets import VoicemailMessageFilterSet
from pbx.models import VoicemailBox, VoicemailMessage
from pbx.portal.views.base import PortalPage
from switchboard.views.files import file_response

PAGE_SIZE = 50


class _MessagePage(PortalPage):
    model = VoicemailMessage
    verbose_name = "voicemail message"
    verbose_name_plural = "voicemail messages"
    list_url_name = "portal:voicemail-list"

    def box(self, pk: int) -> VoicemailBox:
        return get_object_or_404(VoicemailBox.objects.select_related("extension"), pk=pk)

    def message(self, box: VoicemailBox, uuid: str) -> VoicemailMessage:
        try:
            return get_message(self.identity.account, box, uuid, actor=self.identity.user)
        except VoicemailMessage.DoesNotExist as exc:
            raise Http404 from exc

    def messages_url(self, box: VoicemailBox) -> str:
        return reverse("portal:voicemail-messages", kwargs={"pk": box.pk})

    def row(self, box: VoicemailBox, message: VoicemailMessage) -> HttpResponse:
        return render(self.request, "portal/_voicemail_message_row.html",
                      self.context(box=box, message=message))


class VoicemailMessagesView(_MessagePage):
    """The box's messages; htmx asks for the table only (the filter)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        box = self.box(pk)
        queryset = list_messages(self.identity.account, box, actor=self.identity.user)
        filterset = VoicemailMessageFilterSet(request.GET or None, queryset=queryset, request=request)
        if filterset.is_bound and filterset.is_valid():
            queryset = filterset.qs
        page = queryset[:PAGE_SIZE]
        context = self.context(box=box, filterset=filterset, messages_list=list(page),
                               total=queryset.count(), page_size=PAGE_SIZE)
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.boosted:
            return render(request, "portal/_voicemail_message_table.html", context)
        return render(request, "portal/voicemail_messages.html", context)


class VoicemailMessageAudioView(_MessagePage):
    """The recording (inline for the player, ``?download=1`` to save it). A file that is
    gone is a 410 page, storage this server cannot reach a 404: never a 500."""

    def get(self, request: HttpRequest, pk: int, uuid: str) -> HttpResponse:
        box = self.box(pk)
        message = self.message(box, uuid)
        try:
            audio = message_audio(self.identity.account, message, actor=self.identity.user)
        except RecordingUnavailable as exc:
            return render(request, self.refused_template, self.context(reason=str(exc)),
                          status=410 if exc.gone else 404)
        return file_response(request, audio.path, size=audio.size, content_type=audio.content_type,
                             filename=audio.filename, download=request.GET.get("download") == "1")


class _MessagePost(_MessagePage):
    """A page that only takes a POST; a GET (of a message that is there) goes back to the
    box's messages."""

    def get(self, request: HttpRequest, pk: int, uuid: str | None = None) -> HttpResponse:
        box = self.box(pk)
        if uuid is not None:
            self.message(box, uuid)
        return redirect(self.messages_url(box))


class VoicemailMessageReadView(_MessagePost):
    """POST ``read=1`` (or ``0``): mark it read (unread)."""

    def post(self, request: HttpRequest, pk: int, uuid: str) -> HttpResponse:
        box = self.box(pk)
        message = do_mark_message_read(self.identity.account, self.message(box, uuid), **self.writer,
                                       read=request.POST.get("read", "1") != "0")
        if getattr(request, "htmx", None):
            return self.row(box, message)
        return redirect(self.messages_url(box))


class VoicemailMessageDeleteView(_MessagePost):
    """POST: delete it (htmx: the row goes; otherwise back to the list, saying so)."""

    def post(self, request: HttpRequest, pk: int, uuid: str) -> HttpResponse:
        box = self.box(pk)
        message = self.message(box, uuid)
        do_delete_message(self.identity.account, message, **self.writer)
        if getattr(request, "htmx", None):
            return HttpResponse("")
        flash.success(request, "Message deleted.")
        return redirect(self.messages_url(box))


class VoicemailMessageSyncView(_MessagePost):
    """POST: list the box on the FreeSWITCH nodes now (messages left while the node
    manager was away appear). An admin's button, as the API's sync is a write."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        box = self.box(pk)
        self.authorize(self.identity)
        nodes = reconcile_box(self.identity.account, box, get_client())
        flash.info(request, f"Brought up to date from {nodes} FreeSWITCH node(s)." if nodes
                   else "No FreeSWITCH node answered; the list is as last seen.")
        return redirect(self.messages_url(box))
