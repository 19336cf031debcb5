"""A voicemail box's messages (pbx.actions.voicemail_messages), under the box:
``…/voicemail-boxes/{box_id}/messages/``. Messages are left by callers, so there is no
create or update: list (filters: folder, read, since/until, q), read one by its uuid, its
audio (audio/wav, byte ranges answered), mark read / unread, delete, and ``sync/`` (list
the box on the nodes now; the node manager keeps the mirror current on its own).

A recording this server cannot read is 410 (gone from the storage) or 404 (storage not
shared with this server), never a 500."""

from __future__ import annotations

import json

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from fsnodes.manager import get_client
from fsnodes.voicemail_messages import reconcile_box
from pbx.actions.voicemail_messages import (
    RecordingUnavailable,
    do_delete_message,
    do_mark_message_read,
    do_mark_message_unread,
    list_messages,
    message_audio,
)
from pbx.api.serializers.voicemail_messages import SyncSerializer, VoicemailMessageSerializer
from pbx.filtersets import VoicemailMessageFilterSet
from pbx.models import VoicemailBox, VoicemailMessage
from switchboard.api.views import AccountScopedViewSet
from switchboard.views.files import file_response

BOX_ID = OpenApiParameter("box_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The box's id.")
UUID = OpenApiParameter("uuid", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="The message's uuid (mod_voicemail's).")


class WavRenderer(BaseRenderer):
    """Lets a client that accepts only audio/wav reach the audio (the file itself is a
    plain Django response); an error body is still JSON."""

    media_type = "audio/wav"
    format = "wav"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


GONE = {"detail": "The recording is no longer on the voicemail storage.", "code": "gone"}


@extend_schema(parameters=[BOX_ID])
class VoicemailMessageViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = VoicemailMessageSerializer
    filterset_class = VoicemailMessageFilterSet
    ordering_fields = ["created_at", "duration", "caller_id_number"]
    ordering = ["-created_at", "-id"]
    lookup_field = "uuid"
    lookup_url_kwarg = "uuid"
    lookup_value_converter = "str"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def box(self) -> VoicemailBox:
        if not hasattr(self, "_box"):
            self._box = VoicemailBox.objects.get(pk=self.kwargs["box_id"])
        return self._box

    def get_queryset(self) -> QuerySet[VoicemailMessage]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return VoicemailMessage.objects.none()
        return list_messages(self.account, self.box(), actor=self.identity.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "account_id": self.kwargs.get("account_id")}

    @extend_schema(parameters=[UUID])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def _shown(self, message: VoicemailMessage) -> Response:
        fresh = self.get_queryset().get(pk=message.pk)
        return Response(VoicemailMessageSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(parameters=[UUID], summary="Delete the message (here and on the nodes)",
                   responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        do_delete_message(self.account, self.get_object(), **self.writer())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[UUID], summary="Mark the message read (the phone's light follows)",
                   request=None, responses=VoicemailMessageSerializer)
    @action(detail=True, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request, *args, **kwargs) -> Response:
        return self._shown(do_mark_message_read(self.account, self.get_object(), **self.writer()))

    @extend_schema(parameters=[UUID], summary="Mark the message unread (new again)",
                   request=None, responses=VoicemailMessageSerializer)
    @action(detail=True, methods=["post"], url_path="mark-unread")
    def mark_unread(self, request: Request, *args, **kwargs) -> Response:
        return self._shown(do_mark_message_unread(self.account, self.get_object(), **self.writer()))

    @extend_schema(parameters=[UUID], summary="The recording (audio/wav; a Range request is answered 206)",
                   responses={(200, "audio/wav"): OpenApiTypes.BINARY,
                              (206, "audio/wav"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="Not found, or the voicemail storage "
                                                               "is not shared with this server."),
                              410: OpenApiResponse(description="The recording is gone from the storage."),
                              416: OpenApiResponse(description="The range is outside the file.")})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, WavRenderer])
    def audio(self, request: Request, *args, **kwargs):
        message = self.get_object()
        try:
            audio = message_audio(self.account, message, actor=self.identity.user)
        except RecordingUnavailable as exc:
            if exc.gone:
                return Response(GONE, status=status.HTTP_410_GONE)
            raise exceptions.NotFound() from exc
        return file_response(request._request, audio.path, size=audio.size,
                             content_type=audio.content_type, filename=audio.filename,
                             download=request.query_params.get("download") == "1")

    @extend_schema(summary="List the box on the FreeSWITCH nodes now and bring the messages up to date",
                   request=None, responses=SyncSerializer)
    @action(detail=False, methods=["post"])
    def sync(self, request: Request, *args, **kwargs) -> Response:
        box = self.box()
        list_messages(self.account, box, actor=self.identity.user)  # who may read may sync
        return Response({"nodes": reconcile_box(self.account, box, get_client())})
