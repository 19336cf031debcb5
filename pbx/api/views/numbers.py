"""Phone numbers (pbx.numbers): the numbers an account holds (on the master's path, the
platform pool). The master imports numbers into the pool; the holder hands a number one
step down (assign) and any admin at or above the holder gives it back one step up
(release); the holder routes it to one of its own destinations."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.api.serializers.numbers import NumberAssignSerializer, NumberImportSerializer, PhoneNumberSerializer
from pbx.filtersets import PhoneNumberFilterSet
from pbx.numbers import (
    do_assign_number,
    do_import_numbers,
    do_release_number,
    do_route_number,
    do_set_number_options,
)
from switchboard.api.views import AccountScopedViewSet
from tenants.models import PhoneNumber


class PhoneNumberViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = PhoneNumberSerializer
    filterset_class = PhoneNumberFilterSet
    ordering_fields = ["e164", "created_at"]
    ordering = ["e164"]
    in_account_schema = False  # the public DID index
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PhoneNumber.objects.none()
        if self.account.is_master:
            return PhoneNumber.objects.filter(account__isnull=True)
        return PhoneNumber.objects.filter(account=self.account)

    def _answer(self, number: PhoneNumber, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(PhoneNumberSerializer(PhoneNumber.objects.get(pk=number.pk)).data, status=status_code)

    @extend_schema(summary="Change a number's route and options (caller-ID name, screening, hold music)")
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        number = self.get_object()
        serializer = PhoneNumberSerializer(number, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(serializer.validated_data)
        writer = self.writer()
        options = {name: fields[key] for key, name in (("caller_id_name", "caller_id_name"),
                                                       ("privacy_screening", "privacy_screening"),
                                                       ("moh_group_id", "moh_group")) if key in fields}
        if options:
            number = do_set_number_options(self.account, number, **writer, **options)
        if "route" in fields:
            number = do_route_number(self.account, number, route=fields["route"], **writer)
        return self._answer(number)

    @extend_schema(summary="Import numbers into the platform pool (the master's path only)",
                   request=NumberImportSerializer, responses={201: PhoneNumberSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="import", serializer_class=NumberImportSerializer,
            pagination_class=None, filter_backends=[])
    def import_numbers(self, request: Request, *args, **kwargs) -> Response:
        if not self.account.is_master:
            raise exceptions.NotFound()
        serializer = NumberImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        writer = self.writer()
        created = do_import_numbers(writer["actor"], serializer.validated_data["numbers"], ip=writer["ip"])
        return Response(PhoneNumberSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Hand the number one step down, to an account directly below its holder",
                   request=NumberAssignSerializer, responses=PhoneNumberSerializer)
    @action(detail=True, methods=["post"], serializer_class=NumberAssignSerializer)
    def assign(self, request: Request, *args, **kwargs) -> Response:
        number = self.get_object()
        serializer = NumberAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receiver = self.identity.account_named(serializer.validated_data["account"])
        writer = self.writer()
        return self._answer(do_assign_number(writer["actor"], number, receiver, ip=writer["ip"]))

    @extend_schema(summary="Give the number back one step up (its route is cleared)",
                   request=None, responses=PhoneNumberSerializer)
    @action(detail=True, methods=["post"], serializer_class=PhoneNumberSerializer)
    def release(self, request: Request, *args, **kwargs) -> Response:
        writer = self.writer()
        return self._answer(do_release_number(writer["actor"], self.get_object(), ip=writer["ip"]))
