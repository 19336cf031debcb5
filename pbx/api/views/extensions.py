"""Extensions and their devices (SIP credentials): pbx.actions.extensions writes them. A
device's SIP secret is shown once, in the answer that made it (create, or regenerate)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.extensions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.api.serializers.extensions import (
    DeviceSerializer,
    DeviceWithSecretSerializer,
    ExtensionSerializer,
    NewDeviceSerializer,
)
from pbx.filtersets import DeviceFilterSet, ExtensionFilterSet
from pbx.models import Device, Extension
from switchboard.api.views import ObjectActions, ObjectViewSet


class ExtensionViewSet(ObjectViewSet):
    queryset = Extension.objects.prefetch_related("devices")
    serializer_class = ExtensionSerializer
    filterset_class = ExtensionFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(create=do_create_extension, update=do_update_extension, delete=do_delete_extension)


def _add_device(account, *, extension, actor, ip, **fields) -> tuple[Device, str]:
    return do_add_device(account, extension, actor=actor, ip=ip, **fields)


class DeviceViewSet(ObjectViewSet):
    queryset = Device.objects.select_related("extension")
    serializer_class = DeviceSerializer
    create_serializer_class = NewDeviceSerializer
    filterset_class = DeviceFilterSet
    ordering_fields = ["username", "created_at"]
    ordering = ["username"]
    writes = ObjectActions(update=lambda account, device, **kw: do_update_device(account, device, **kw)[0],
                           delete=do_remove_device)

    @extend_schema(request=NewDeviceSerializer, responses={201: DeviceWithSecretSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = NewDeviceSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        device, secret = _add_device(self.account, **self.writer(), **serializer.validated_data)
        return self.represent(device, status_code=status.HTTP_201_CREATED, secret=secret)

    @extend_schema(summary="Give the device a new SIP secret (shown in this answer only)",
                   request=None, responses=DeviceWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-secret", serializer_class=DeviceSerializer)
    def regenerate_secret(self, request: Request, *args, **kwargs) -> Response:
        device, secret = do_update_device(self.account, self.get_object(), rotate_secret=True,
                                          **self.writer())
        return self.represent(device, secret=secret)
