"""Prompts and hold music (pbx.actions.media). A recording is uploaded as
multipart/form-data, stored, and converted by a Celery task once the upload commits: it
is answered at once with ``status: pending``, and a later read shows ``ready``, or
``failed`` with the converter's ``error``. An object still used (an IVR's greeting, a
number's hold music) is a 409 naming its users."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

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
from pbx.api.serializers.media import (
    MohGroupSerializer,
    MohTrackSerializer,
    NewMohTrackSerializer,
    NewPromptSerializer,
    PromptSerializer,
    TrackOrderSerializer,
)
from pbx.filtersets import MohGroupFilterSet, PromptFilterSet
from pbx.models import MohGroup, MohTrack, Prompt
from switchboard.api.views import ObjectActions, ObjectViewSet

UPLOAD_PARSERS = [MultiPartParser, FormParser]


class PromptViewSet(ObjectViewSet):
    queryset = Prompt.objects.all()
    serializer_class = PromptSerializer
    create_serializer_class = NewPromptSerializer
    filterset_class = PromptFilterSet
    ordering_fields = ["name", "created_at", "status"]
    ordering = ["name"]
    writes = ObjectActions(create=do_upload_prompt, update=do_rename_prompt, delete=do_delete_prompt)

    def get_parsers(self):
        # The create is an upload; a rename is JSON like every other change.
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [parser() for parser in UPLOAD_PARSERS]
        return super().get_parsers()

    @extend_schema(summary="Upload a prompt (multipart); converted in the background",
                   request=NewPromptSerializer, responses={201: PromptSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(summary="Rename a prompt")
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(summary="Delete a prompt (409 while something plays it)",
                   responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        return super().destroy(request, *args, **kwargs)


class MohGroupViewSet(ObjectViewSet):
    queryset = MohGroup.objects.prefetch_related("tracks")
    serializer_class = MohGroupSerializer
    filterset_class = MohGroupFilterSet
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    writes = ObjectActions(create=do_create_moh_group, update=do_update_moh_group, delete=do_delete_moh_group)

    @extend_schema(summary="Delete a hold-music group and its tracks (409 while something uses it)",
                   responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        return super().destroy(request, *args, **kwargs)

    @extend_schema(methods=["GET"], summary="The group's tracks, in their order",
                   responses=MohTrackSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Upload a track (multipart); it goes last, converted in "
                                             "the background",
                   request={"multipart/form-data": NewMohTrackSerializer},
                   responses={201: MohTrackSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=NewMohTrackSerializer,
            parser_classes=UPLOAD_PARSERS, pagination_class=None, filter_backends=[])
    def tracks(self, request: Request, *args, **kwargs) -> Response:
        group = self.get_object()
        if request.method == "GET":
            return Response(MohTrackSerializer(group.tracks.all(), many=True).data)
        serializer = NewMohTrackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        track = do_add_moh_track(self.account, group, **serializer.validated_data, **self.writer())
        return Response(MohTrackSerializer(MohTrack.objects.get(pk=track.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="One track of the group", responses=MohTrackSerializer)
    @extend_schema(methods=["DELETE"], summary="Remove a track from the group",
                   responses={204: OpenApiResponse(description="Removed.")})
    @action(detail=True, methods=["get", "delete"], url_path="tracks/<int:track_id>", url_name="track",
            serializer_class=MohTrackSerializer, pagination_class=None, filter_backends=[])
    def track(self, request: Request, *args, track_id: int, **kwargs) -> Response:
        group = self.get_object()
        track = group.tracks.get(pk=track_id)
        if request.method == "GET":
            return Response(MohTrackSerializer(track).data)
        do_remove_moh_track(self.account, track, **self.writer())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Put the group's tracks in the order to play (when not shuffled)",
                   request=TrackOrderSerializer, responses=MohTrackSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="reorder-tracks", serializer_class=TrackOrderSerializer,
            pagination_class=None, filter_backends=[])
    def reorder_tracks(self, request: Request, *args, **kwargs) -> Response:
        group = self.get_object()
        serializer = TrackOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        do_reorder_moh_tracks(self.account, group, track_ids=serializer.validated_data["track_ids"],
                              **self.writer())
        # Read again: the group's prefetched tracks are in the old order.
        return Response(MohTrackSerializer(MohTrack.objects.filter(group_id=group.pk), many=True).data)
