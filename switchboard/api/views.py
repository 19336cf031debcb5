"""The base classes every API view is a declaration on.

``ApiViewSet``: the request pipeline (identity, checkpoint, throttle, idempotency, a write
is one transaction, errors). ``AccountScopedViewSet``: for paths under
``/api/v1/accounts/{account_id}/``, the account found within the identity's reach (else
404) and, for a tenant's own objects, its schema. ``ObjectViewSet``: list / read / create /
update / delete of one kind of object, where every write is the object's action::

    class RingGroupViewSet(ObjectViewSet):
        queryset = RingGroup.objects.prefetch_related("members")
        serializer_class = RingGroupSerializer
        filterset_class = RingGroupFilterSet
        search_fields = ["number", "name"]
        ordering_fields = ["number", "name", "created_at"]
        writes = ObjectActions(create=do_create_ring_group, update=do_update_ring_group,
                               delete=do_delete_ring_group)
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import connection, models, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api import errors, idempotency
from switchboard.api.permissions import identity_of
from tenants.http import client_ip
from tenants.identity import Identity
from tenants.models import Account


class ApiViewSet(viewsets.GenericViewSet):
    """The pipeline: DRF runs authentication (the identity), the checkpoint and the
    throttle; then ``resolve`` finds what the path names and an ``Idempotency-Key`` is
    looked up. Every write request runs in one transaction, rolled back unless it
    succeeds."""

    identity: Identity
    lookup_value_converter = "int"

    def dispatch(self, request, *args, **kwargs):
        if request.method in permissions.SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            return response

    def check_throttles(self, request: Request) -> None:
        # The request counts against its key everywhere: the cache's key function would
        # otherwise prefix the host's schema and give a key one allowance per host.
        public = get_public_schema_name()
        with nullcontext() if connection.schema_name == public else schema_context(public):
            super().check_throttles(request)

    def check_permissions(self, request: Request) -> None:
        # What the path names is found first, so a write outside the caller's reach is a
        # 404 like any missing id, read-only or not; then the checkpoint.
        self.identity = identity_of(request)
        self.resolve(request, **self.kwargs)
        super().check_permissions(request)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.idempotency = idempotency.begin(request, self.identity.user)

    def resolve(self, request: Request, **kwargs) -> None:
        """What the path names beyond the object itself (the account)."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        pending = getattr(self, "idempotency", None)
        if pending is not None:
            response = pending.store(response)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            connection.set_tenant(tenant)
        else:
            connection.set_schema_to_public()
        return super().finalize_response(request, response, *args, **kwargs)

    def writer(self) -> dict[str, Any]:
        """Who writes, as every action takes it."""
        return {"actor": self.identity.user, "ip": client_ip(self.request)}


ACCOUNT_ID = OpenApiParameter("account_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="The account: yours or one below it.")


@extend_schema(parameters=[ACCOUNT_ID])
class AccountScopedViewSet(ApiViewSet):
    """Under ``/api/v1/accounts/{account_id}/``. An account outside the identity's reach
    answers 404 like one that does not exist. With ``in_account_schema`` (a tenant's own
    objects: extensions, ring groups …) queries run in the account's schema, so an id
    is looked up among this account's rows only; the master has none."""

    in_account_schema: ClassVar[bool] = True
    account: Account

    def resolve(self, request: Request, **kwargs) -> None:
        self.account = self.identity.account_named(kwargs["account_id"])
        if self.in_account_schema:
            if self.account.is_master:
                raise exceptions.NotFound()
            connection.set_tenant(self.account)


@dataclass(frozen=True)
class ObjectActions:
    """The actions that write one kind of object, in the one argument shape:
    ``create(account, *, actor, ip, **fields)``, ``update(account, obj, *, actor, ip,
    **fields)``, ``delete(account, obj, *, actor, ip)``."""

    create: Callable[..., models.Model] | None = None
    update: Callable[..., models.Model] | None = None
    delete: Callable[..., None] | None = None


class ObjectViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """List, read, create, change (PATCH) and delete one kind of object through its
    actions. A serializer only checks the shape of the request; what the action refuses
    comes back as 400 / 403 / 409 through switchboard.api.errors."""

    writes: ClassVar[ObjectActions] = ObjectActions()
    # An object is changed with PATCH; PUT replaces a set (a ring group's members).
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        if self.action in ("create",) and getattr(self, "create_serializer_class", None):
            return self.create_serializer_class
        return super().get_serializer_class()

    def action_fields(self, validated: dict[str, Any]) -> dict[str, Any]:
        """The action's keyword arguments from the validated request (a subclass renames
        or drops what the action takes differently)."""
        return dict(validated)

    def represent(self, obj: models.Model, *, status_code: int = status.HTTP_200_OK,
                  **extra: Any) -> Response:
        """The object as a read shows it (read again, with what the list prefetches), whatever
        the serializer of the request was."""
        fresh = self.get_queryset().get(pk=obj.pk)
        # The class's own: an extra action's serializer_class is set on the instance.
        shown = type(self).serializer_class(fresh, context=self.get_serializer_context()).data
        return Response({**shown, **extra}, status=status_code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        if self.writes.create is None:
            raise exceptions.MethodNotAllowed(request.method)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.writes.create(self.account, **self.writer(),
                                 **self.action_fields(serializer.validated_data))
        return self.represent(obj, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        if self.writes.update is None:
            raise exceptions.MethodNotAllowed(request.method)
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = self.writes.update(self.account, obj, **self.writer(),
                                 **self.action_fields(serializer.validated_data))
        return self.represent(obj)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        if self.writes.delete is None:
            raise exceptions.MethodNotAllowed(request.method)
        obj = self.get_object()
        self.writes.delete(self.account, obj, **self.writer())
        return Response(status=status.HTTP_204_NO_CONTENT)


@csrf_exempt  # like every API view: a key needs no CSRF token, and here nothing is written
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/: the API's own 404 (JSON, as for a missing id), not the
    site's HTML page."""
    return JsonResponse(errors.NOT_FOUND, status=404)
