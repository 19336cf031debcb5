"""Prompts and hold-music groups: uploads (multipart) through the media actions, their
conversion state (converting / ready / failed) polled with htmx until it settles, the
converted recording played in the page from :class:`MediaAudioView`, and deletion refused
while something uses the recording or group, with the users listed as the action says.

Audio is served by the portal, never from a public media URL: the row is looked up in
the tenant's schema (another tenant's id is 404) and only its own converted copy is read."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from pbx import media
from pbx.actions.media import (
    do_add_moh_track,
    do_create_moh_group,
    do_delete_moh_group,
    do_delete_prompt,
    do_remove_moh_track,
    do_rename_prompt,
    do_reorder_moh_tracks,
    do_update_moh_group,
    do_upload_prompt,
)
from pbx.filtersets import MohGroupFilterSet, PromptFilterSet
from pbx.models import MohGroup, MohTrack, Prompt
from pbx.models.media import MediaStatus
from pbx.portal.forms.media import MohGroupForm, MohTrackForm, PromptForm, PromptUploadForm
from pbx.portal.views.base import PortalDeleteView, PortalEditView, PortalListView, PortalPage
from pbx.portal.views.ordering import OrderedItem, OrderedListPage, dragged, moved
from switchboard.views import Column, show_action_errors

# The rate the page plays: the wideband copy, the better of the two FreeSWITCH uses.
PLAYED_RATE = 16000

STATUS_URL = {"pbx.Prompt": "portal:prompt-status", "pbx.MohTrack": "portal:moh-track-status"}
AUDIO_URL = {"pbx.Prompt": "portal:prompt-audio", "pbx.MohTrack": "portal:moh-track-audio"}


def status_fragment(obj: Prompt | MohTrack) -> SafeString:
    """The recording's state; while converting it asks again every two seconds (htmx),
    once ready it carries the player. The same fragment answers the polling."""
    label = obj._meta.label
    return render_to_string("portal/_media_status.html", {
        "obj": obj, "dom_id": f"{obj._meta.model_name}-{obj.pk}-state",
        "pending": obj.status == MediaStatus.PENDING,
        "ready": obj.status == MediaStatus.READY, "failed": obj.status == MediaStatus.FAILED,
        "status_url": reverse(STATUS_URL[label], kwargs={"pk": obj.pk}),
        "audio_url": reverse(AUDIO_URL[label], kwargs={"pk": obj.pk}),
    })


def _seconds(obj: Prompt | MohTrack) -> str:
    return f"{obj.duration_ms / 1000:.1f} s" if obj.duration_ms else "—"


# --- prompts ---------------------------------------------------------------------------


class _PromptPages:
    model = Prompt
    verbose_name = "prompt"
    verbose_name_plural = "prompts"
    list_url_name = "portal:prompt-list"
    create_url_name = "portal:prompt-create"
    edit_url_name = "portal:prompt-edit"
    delete_url_name = "portal:prompt-delete"


class PromptListView(_PromptPages, PortalListView):
    filterset_class = PromptFilterSet
    search_placeholder = "Name or uploaded file"
    columns = (
        Column("name", "Name", link=True),
        Column("status", "State", render=status_fragment),
        Column("duration_ms", "Length", render=_seconds),
        Column("original_name", "Uploaded file"),
    )

    def get_queryset(self) -> models.QuerySet:
        return Prompt.objects.order_by("name")


class PromptEditView(_PromptPages, PortalEditView):
    form_class = PromptForm
    template_name = "portal/media_edit.html"

    def build_form(self, obj: models.Model | None, data: Any = None) -> forms.Form:
        """Creating uploads a file (the form gets the request's files); a prompt's own
        page renames it."""
        form_class = PromptForm if obj is not None else PromptUploadForm
        form = form_class(data, self.request.FILES if data is not None else None,
                          initial={"name": obj.name} if obj is not None else None)
        if not self.may_write:
            for field in form.fields.values():
                field.disabled = True
        return form

    def create(self, form: forms.Form) -> Prompt:
        return do_upload_prompt(self.identity.account, name=form.cleaned_data["name"],
                                upload=form.cleaned_data["upload"], **self.writer)

    def update(self, obj: Prompt, form: forms.Form) -> Prompt:
        return do_rename_prompt(self.identity.account, obj, name=form.cleaned_data["name"], **self.writer)

    def extra_context(self, obj: Prompt | None) -> dict[str, Any]:
        return {"status": status_fragment(obj), "recording": obj} if obj is not None else {}


class PromptDeleteView(_PromptPages, PortalDeleteView):
    def delete(self, obj: Prompt) -> None:
        do_delete_prompt(self.identity.account, obj, **self.writer)


# --- hold music --------------------------------------------------------------------------


class _MohPages:
    model = MohGroup
    verbose_name = "hold music group"
    verbose_name_plural = "hold music"
    list_url_name = "portal:moh-list"
    create_url_name = "portal:moh-create"
    edit_url_name = "portal:moh-edit"
    delete_url_name = "portal:moh-delete"


class MohGroupListView(_MohPages, PortalListView):
    filterset_class = MohGroupFilterSet
    search_placeholder = "Name"
    columns = (
        Column("name", "Name", link=True),
        Column("shuffle", "Order", render=lambda group: "Shuffled" if group.shuffle else "In order"),
        Column("tracks", "Tracks", render=lambda group: group.track_count),
        Column("ready", "Ready to play", render=lambda group: group.ready_count),
    )

    def get_queryset(self) -> models.QuerySet:
        return MohGroup.objects.annotate(
            track_count=models.Count("tracks"),
            ready_count=models.Count("tracks", filter=models.Q(tracks__status=MediaStatus.READY)),
        ).order_by("name")


class MohGroupEditView(_MohPages, PortalEditView):
    form_class = MohGroupForm
    template_name = "portal/moh_edit.html"

    def create(self, form: forms.Form) -> MohGroup:
        return do_create_moh_group(self.identity.account, **self.writer, **form.cleaned_data)

    def update(self, obj: MohGroup, form: forms.Form) -> MohGroup:
        return do_update_moh_group(self.identity.account, obj, **self.writer, **self.changed_values(form))

    def extra_context(self, obj: MohGroup | None, track_form: MohTrackForm | None = None) -> dict[str, Any]:
        if obj is None:
            return {}
        items = [OrderedItem(label=f"{track.name} ({_seconds(track)})", name=f"track {track.name}",
                             extra=status_fragment(track),
                             remove_url=reverse("portal:moh-track-delete", kwargs={"pk": track.pk}))
                 for track in obj.tracks.all()]
        return {"ordered_items": items, "track_form": track_form or MohTrackForm(),
                "order_url": reverse("portal:moh-tracks", kwargs={"pk": obj.pk})}


class MohGroupDeleteView(_MohPages, PortalDeleteView):
    def delete(self, obj: MohGroup) -> None:
        do_delete_moh_group(self.identity.account, obj, **self.writer)


class MohTrackCreateView(_MohPages, PortalPage):
    """POST (multipart): a track added last to the group ``pk``."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = self.get_object(pk)
        self.authorize(self.identity)
        form = MohTrackForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                track = do_add_moh_track(self.identity.account, group, upload=form.cleaned_data["upload"],
                                         name=form.cleaned_data["name"], **self.writer)
            except ValidationError as error:
                show_action_errors(form, error)
            else:
                messages.success(request, f"Track {track.name} added; it plays once converted.")
                return redirect(self.url(self.edit_url_name, group))
        edit = MohGroupEditView()
        edit.setup(request, pk=pk)
        edit.identity = self.identity
        return render(request, edit.template_name, edit.context(
            object=group, form=edit.build_form(group), delete_url=edit.url(edit.delete_url_name, group),
            **edit.extra_context(group, form)), status=400)


class MohTracksOrderView(_MohPages, OrderedListPage):
    """POST: a track moved up or down, or the tracks in a dragged order, through
    ``do_reorder_moh_tracks``, whose refusal is shown above the list (the section alone
    for htmx, as the ring groups' members)."""

    edit_view_class = MohGroupEditView
    section_template = "portal/_moh_tracks.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_object(pk)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = self.get_object(pk)
        self.authorize(self.identity)
        ids = list(group.tracks.values_list("pk", flat=True))
        operation = request.POST.get("operation", "")
        try:
            if operation == "order":
                # Positions as drawn, in their new order; one that names no track is
                # passed on as no track, for the action to refuse the list.
                wanted = dragged(ids, request.POST.get("order", ""), 0)
            else:
                wanted = moved(ids, operation, request.POST.get("position", ""), "track")
            do_reorder_moh_tracks(self.identity.account, group, track_ids=wanted, **self.writer)
        except ValidationError as error:
            return self.answer(group, error.messages, status=400)
        return self.done(group, f"Tracks of {group} saved.")


class MohTrackDeleteView(_MohPages, PortalPage):
    """POST: the track leaves its group (nothing names a track, so nothing refuses)."""

    def get_track(self, pk: int) -> MohTrack:
        return get_object_or_404(MohTrack.objects.select_related("group"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(self.url(self.edit_url_name, self.get_track(pk).group))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        track = self.get_track(pk)
        self.authorize(self.identity)
        do_remove_moh_track(self.identity.account, track, **self.writer)
        messages.success(request, f"Track {track.name} removed.")
        return redirect(self.url(self.edit_url_name, track.group))


# --- state and sound ----------------------------------------------------------------------


class MediaStatusView(PortalPage):
    """The state fragment of one recording (what htmx polls); every role may read it."""

    media_model: ClassVar[type[Prompt] | type[MohTrack]] = Prompt  # the URLconf names which

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponse(status_fragment(get_object_or_404(self.media_model, pk=pk)))


class MediaAudioView(PortalPage):
    """The converted recording (16 kHz WAV) of one prompt or track of this tenant; 404
    until it is converted. Every role may listen."""

    media_model: ClassVar[type[Prompt] | type[MohTrack]] = Prompt  # the URLconf names which

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.media_model, pk=pk, status=MediaStatus.READY)
        name = media.converted_name(obj, PLAYED_RATE) if obj.upload else ""
        # A row of this schema names this tenant's folder; anything else is not served.
        if not name or not name.startswith(f"{self.identity.account.schema_name}/"):
            raise Http404("No recording.")
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError as exc:
            raise Http404("The recording's file is missing.") from exc
        response = FileResponse(handle, content_type="audio/wav")
        response["Cache-Control"] = "private, max-age=300"
        return response
