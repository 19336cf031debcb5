"""An account's staff users and their API keys (tenants.actions: who may manage whom,
password rules, the audit). Users are never deleted here: deactivated, they cannot sign
in and their keys stop working. A key's token is shown once, in the answer that made it;
a customer's admins make keys for their own users, as resellers' admins do."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api.views import AccountScopedViewSet
from tenants import actions
from tenants.api.serializers.users import (
    ApiKeySerializer,
    ApiKeyWithTokenSerializer,
    NewStaffUserSerializer,
    PasswordSerializer,
    StaffUserSerializer,
)
from tenants.filtersets import ApiKeyFilterSet, StaffUserFilterSet
from tenants.models import ApiKey, User


@extend_schema_view(
    list=extend_schema(summary="The account's staff users"),
    retrieve=extend_schema(summary="One staff user"),
    create=extend_schema(summary="Add a staff user", request=NewStaffUserSerializer,
                         responses={201: StaffUserSerializer}),
    partial_update=extend_schema(summary="Change a user's name, e-mail or role"),
)
class StaffUserViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = StaffUserSerializer
    in_account_schema = False
    filterset_class = StaffUserFilterSet
    ordering_fields = ["username", "date_joined", "last_login", "role"]
    ordering = ["username"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return User.objects.filter(account=self.account).select_related("account")

    def _shown(self, user: User, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(StaffUserSerializer(self.get_queryset().get(pk=user.pk)).data, status=status_code)

    def _ip(self) -> dict:
        return {"ip": self.writer()["ip"]}

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = NewStaffUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = actions.do_create_staff_user(self.identity.user, account=self.account, **self._ip(),
                                            **serializer.validated_data)
        return self._shown(user, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        user = self.get_object()
        serializer = StaffUserSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            actions.do_update_staff_user(self.identity.user, user, **self._ip(), **serializer.validated_data)
        return self._shown(user)

    @extend_schema(summary="Let the user sign in again (admins and user-activation staff)",
                   request=None, responses=StaffUserSerializer)
    @action(detail=True, methods=["post"], serializer_class=StaffUserSerializer)
    def activate(self, request: Request, *args, **kwargs) -> Response:
        user = actions.do_set_user_active(self.identity.user, self.get_object(), True, **self._ip())
        return self._shown(user)

    @extend_schema(summary="Stop the user signing in and their API keys working (admins and "
                           "user-activation staff)", request=None, responses=StaffUserSerializer)
    @action(detail=True, methods=["post"], serializer_class=StaffUserSerializer)
    def deactivate(self, request: Request, *args, **kwargs) -> Response:
        user = actions.do_set_user_active(self.identity.user, self.get_object(), False, **self._ip())
        return self._shown(user)

    @extend_schema(summary="Set the user's password (admins)", request=PasswordSerializer,
                   responses={204: OpenApiResponse(description="Set.")})
    @action(detail=True, methods=["post"], url_path="set-password", serializer_class=PasswordSerializer)
    def set_password(self, request: Request, *args, **kwargs) -> Response:
        user = self.get_object()
        serializer = PasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.do_set_staff_password(self.identity.user, user, serializer.validated_data["password"],
                                      **self._ip())
        return Response(status=status.HTTP_204_NO_CONTENT)


USER_ID = OpenApiParameter("user_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The user's id.")


@extend_schema_view(
    list=extend_schema(summary="The user's API keys (revoked and expired ones too)"),
    retrieve=extend_schema(summary="One API key (never its token)"),
    create=extend_schema(summary="Make an API key for the user; its token is in this answer only",
                         request=ApiKeySerializer, responses={201: ApiKeyWithTokenSerializer}),
    destroy=extend_schema(summary="Revoke the key: the next request with it is refused",
                          responses={204: OpenApiResponse(description="Revoked.")}),
)
@extend_schema(parameters=[USER_ID])
class ApiKeyViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = ApiKeySerializer
    in_account_schema = False
    filterset_class = ApiKeyFilterSet
    ordering_fields = ["created_at", "name", "last_used_at"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        # The user of the path, among the account's own: anyone else's is a 404. Looked up
        # after the checkpoint, which refuses some identities outright, saying why.
        self.owner = User.objects.get(account=self.account, pk=self.kwargs["user_id"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return ApiKey.objects.filter(account=self.account, user=self.owner).select_related("created_by")

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, token = actions.do_create_api_key(self.account, user=self.owner, **self.writer(),
                                               **serializer.validated_data)
        shown = ApiKeySerializer(self.get_queryset().get(pk=key.pk)).data
        return Response({**shown, "token": token}, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        actions.do_revoke_api_key(self.account, self.get_object(), **self.writer())
        return Response(status=status.HTTP_204_NO_CONTENT)
