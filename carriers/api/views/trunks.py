"""Trunks and their gateways (carriers.actions), as the admin shows them: to the staff
of the master and of resellers (the roles that use the admin), for an account of their
subtree; written by the admins of an account above the owner (the master's for its own).
For anyone else the routes answer 404, as for an account out of reach."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carriers import actions
from carriers.api.serializers.trunks import (
    GatewaySerializer,
    NewTrunkSerializer,
    TrunkSerializer,
    TrunkSourceSerializer,
)
from carriers.filtersets import TrunkFilterSet
from carriers.models import Trunk
from switchboard.api.views import AccountScopedViewSet

GATEWAY_ID = OpenApiParameter("gateway_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="The gateway's id.")


class TrunkScopedViewSet(AccountScopedViewSet):
    in_account_schema = False

    def check_permissions(self, request: Request) -> None:
        # After the checkpoint (which refuses some identities outright, saying why):
        # trunks are the provider's and resellers' business, as in the admin, and absent
        # for anyone else.
        super().check_permissions(request)
        if not (self.identity.account.can_have_children and self.identity.user.may_use_admin):
            raise exceptions.NotFound()


@extend_schema_view(
    list=extend_schema(summary="The account's own trunks (the master's: the platform's)"),
    retrieve=extend_schema(summary="One trunk with its gateways"),
    create=extend_schema(summary="Add a trunk with its gateways", request=NewTrunkSerializer,
                         responses={201: TrunkSerializer}),
    partial_update=extend_schema(summary="Change a trunk's settings (its gateways: …/gateways/)"),
    destroy=extend_schema(summary="Delete a trunk and its gateways",
                          responses={204: OpenApiResponse(description="Deleted.")}),
)
class TrunkViewSet(TrunkScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = TrunkSerializer
    filterset_class = TrunkFilterSet
    ordering_fields = ["name", "weight_cost", "created_at"]
    ordering = ["weight_cost", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Trunk.objects.none()
        return Trunk.objects.filter(account=self.account).prefetch_related("gateways")

    def _shown(self, trunk: Trunk, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(TrunkSerializer(self.get_queryset().get(pk=trunk.pk)).data, status=status_code)

    def _ip(self) -> dict:
        return {"ip": self.writer()["ip"]}

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = NewTrunkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        trunk = actions.do_create_trunk(self.identity.user, self.account,
                                        gateways=[dict(g) for g in fields.pop("gateways")],
                                        **self._ip(), **fields)
        return self._shown(trunk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        trunk = self.get_object()
        serializer = TrunkSerializer(trunk, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        actions.do_update_trunk(self.identity.user, trunk, **self._ip(), **serializer.validated_data)
        return self._shown(trunk)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        actions.do_delete_trunk(self.identity.user, self.get_object(), **self._ip())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], summary="The trunk's gateways, in the order tried",
                   responses=GatewaySerializer(many=True))
    @extend_schema(methods=["POST"], summary="Add a gateway to the trunk (tried last unless placed)",
                   request=GatewaySerializer, responses={201: GatewaySerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=GatewaySerializer, pagination_class=None,
            filter_backends=[])
    def gateways(self, request: Request, *args, **kwargs) -> Response:
        trunk = self.get_object()
        if request.method == "GET":
            return Response(GatewaySerializer(trunk.gateways.all(), many=True).data)
        serializer = GatewaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gateway = actions.do_save_gateway(self.identity.user, trunk, None, **self._ip(),
                                          **serializer.validated_data)
        return Response(GatewaySerializer(trunk.gateways.model.objects.get(pk=gateway.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="One gateway of the trunk", parameters=[GATEWAY_ID],
                   responses=GatewaySerializer)
    @extend_schema(methods=["PATCH"], summary="Change a gateway (its password: leave out to keep it)",
                   parameters=[GATEWAY_ID], request=GatewaySerializer, responses=GatewaySerializer)
    @extend_schema(methods=["DELETE"], summary="Remove a gateway (a trunk keeps at least one)",
                   parameters=[GATEWAY_ID], responses={204: OpenApiResponse(description="Removed.")})
    @action(detail=True, methods=["get", "patch", "delete"], url_path="gateways/<int:gateway_id>",
            url_name="gateway", serializer_class=GatewaySerializer, pagination_class=None, filter_backends=[])
    def gateway(self, request: Request, *args, gateway_id: int, **kwargs) -> Response:
        trunk = self.get_object()
        gateway = trunk.gateways.get(pk=gateway_id)
        if request.method == "DELETE":
            actions.do_remove_gateway(self.identity.user, gateway, **self._ip())
            return Response(status=status.HTTP_204_NO_CONTENT)
        if request.method == "PATCH":
            serializer = GatewaySerializer(gateway, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            gateway = actions.do_save_gateway(self.identity.user, trunk, gateway, **self._ip(),
                                              **serializer.validated_data)
        return Response(GatewaySerializer(trunk.gateways.model.objects.get(pk=gateway.pk)).data)


class TrunkSourceViewSet(TrunkScopedViewSet):
    """Which trunks the account's outside calls use: its parent's (the default; up the tree
    to the first account with its own) or its own. The admins of an account above set it."""

    serializer_class = TrunkSourceSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="Whose trunks the account's calls use")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return Response({"source": self.account.trunk_source})

    @extend_schema(summary="Use the parent's trunks or the account's own")
    def update(self, request: Request, *args, **kwargs) -> Response:
        serializer = TrunkSourceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = actions.do_set_trunk_source(self.identity.user, self.account,
                                              serializer.validated_data["source"], ip=self.writer()["ip"])
        return Response({"source": account.trunk_source})
