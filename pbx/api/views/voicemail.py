"""Voicemail boxes (pbx.actions.voicemail). An extension's box comes and goes with the
extension; shared boxes are made here. A PIN is shown once: in the answer that set it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.voicemail import (
    do_create_voicemail_box,
    do_delete_voicemail_box,
    do_set_voicemail_pin,
    do_update_voicemail_box,
)
from pbx.api.serializers.voicemail import (
    NewVoicemailBoxSerializer,
    VoicemailBoxSerializer,
    VoicemailBoxWithPinSerializer,
    VoicemailPinSerializer,
)
from pbx.filtersets import VoicemailBoxFilterSet
from pbx.models import VoicemailBox
from switchboard.api.views import ObjectActions, ObjectViewSet


class VoicemailBoxViewSet(ObjectViewSet):
    queryset = VoicemailBox.objects.all()
    serializer_class = VoicemailBoxSerializer
    create_serializer_class = NewVoicemailBoxSerializer
    filterset_class = VoicemailBoxFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(update=do_update_voicemail_box, delete=do_delete_voicemail_box)

    @extend_schema(request=NewVoicemailBoxSerializer, responses={201: VoicemailBoxWithPinSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = NewVoicemailBoxSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        box, pin = do_create_voicemail_box(self.account, **self.writer(), **serializer.validated_data)
        return self.represent(box, status_code=status.HTTP_201_CREATED, pin=pin)

    @extend_schema(summary="Set the box's PIN, or a new random one (shown in this answer only)",
                   request=VoicemailPinSerializer, responses=VoicemailBoxWithPinSerializer)
    @action(detail=True, methods=["post"], serializer_class=VoicemailPinSerializer)
    def pin(self, request: Request, *args, **kwargs) -> Response:
        serializer = VoicemailPinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        box, pin = do_set_voicemail_pin(self.account, self.get_object(),
                                        pin=serializer.validated_data.get("pin"), **self.writer())
        return self.represent(box, pin=pin)
