"""Accounts: the caller's own and every account below it. Writes are tenants.actions'
(who may manage which account, limits within the parent's, the audit log)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api.views import ApiViewSet
from tenants import actions
from tenants.api.serializers.accounts import (
    AccountNodeSerializer,
    AccountSerializer,
    MoveSerializer,
    NewAccountSerializer,
    with_parent,
)
from tenants.filtersets import AccountFilterSet
from tenants.models import Account

ACCOUNT_LIST_OPTIONS = {
    "filterset_class": AccountFilterSet,
    "ordering_fields": ["name", "path", "created_at", "kind", "status"],
}


@extend_schema_view(
    list=extend_schema(summary="Every account you reach: yours and all below it"),
    retrieve=extend_schema(summary="One account"),
    partial_update=extend_schema(summary="Change an account's settings and limits"),
    destroy=extend_schema(summary="Delete an account (soft: kept until purged)",
                          responses={204: OpenApiResponse(description="Deleted.")}),
)
class AccountViewSet(ApiViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = AccountSerializer
    lookup_url_kwarg = "account_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = ACCOUNT_LIST_OPTIONS["filterset_class"]
    ordering_fields = ACCOUNT_LIST_OPTIONS["ordering_fields"]
    ordering = ["path"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return with_parent(self.identity.accounts())

    def _listed(self, queryset) -> Response:
        """A filtered, ordered page of ``queryset``, as the list answers."""
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(AccountSerializer(page, many=True).data)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        account = self.get_object()
        serializer = AccountSerializer(account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        actions.do_update_account(self.identity.user, account, **self._ip(), **serializer.validated_data)
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        account = self.get_object()
        actions.do_soft_delete_account(self.identity.user, account, **self._ip())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _ip(self) -> dict[str, str | None]:
        return {"ip": self.writer()["ip"]}

    @extend_schema(methods=["GET"], summary="The accounts directly below this one",
                   responses=AccountSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Create a customer or reseller below this account",
                   request=NewAccountSerializer, responses={201: AccountSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=NewAccountSerializer,
            **ACCOUNT_LIST_OPTIONS)
    def children(self, request: Request, *args, **kwargs) -> Response:
        parent = self.get_object()
        if request.method == "GET":
            return self._listed(self.get_queryset().filter(
                path__startswith=parent.path, depth=parent.depth + 1))
        serializer = NewAccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        account = actions.do_create_account(
            self.identity.user, parent=parent, name=fields.pop("name"), domain=fields.pop("domain"),
            kind=fields.pop("kind", Account.Kind.CUSTOMER), aliases=fields.pop("aliases", []),
            admin_user=fields.pop("admin_user", None), **self._ip(), **fields,
        )
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Every account below this one, at any depth",
                   responses=AccountSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=AccountSerializer, **ACCOUNT_LIST_OPTIONS)
    def descendants(self, request: Request, *args, **kwargs) -> Response:
        root = self.get_object()
        return self._listed(self.get_queryset().filter(path__startswith=root.path).exclude(pk=root.pk))

    @extend_schema(summary="This account and everything below it, nested",
                   responses=AccountNodeSerializer)
    @action(detail=True, methods=["get"], serializer_class=AccountNodeSerializer, pagination_class=None,
            filter_backends=[])
    def tree(self, request: Request, *args, **kwargs) -> Response:
        root = self.get_object()
        rows = self.identity.accounts().filter(path__startswith=root.path).values(
            "id", "name", "kind", "status", "path")
        nodes: dict[str, dict] = {}
        top: dict | None = None
        for row in rows:  # ordered by path: a parent comes before its children
            node = {"id": row["id"], "name": row["name"], "kind": row["kind"], "status": row["status"],
                    "children": []}
            nodes[row["path"]] = node
            parent = nodes.get(row["path"][:-Account.steplen])
            if parent is not None and row["path"] != root.path:
                parent["children"].append(node)
            elif row["path"] == root.path:
                top = node
        return Response(top)

    @extend_schema(summary="Suspend: its calls and registrations, and its subtree's, are refused",
                   request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def suspend(self, request: Request, *args, **kwargs) -> Response:
        account = actions.do_suspend_account(self.identity.user, self.get_object(), **self._ip())
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data)

    @extend_schema(summary="Lift a suspension", request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def resume(self, request: Request, *args, **kwargs) -> Response:
        account = actions.do_reactivate_account(self.identity.user, self.get_object(), **self._ip())
        return Response(AccountSerializer(self.get_queryset().get(pk=account.pk)).data)

    def _shown(self, account: Account) -> Response:
        return Response(AccountSerializer(with_parent(Account.objects.filter(pk=account.pk)).get()).data)

    @extend_schema(summary="The deleted accounts below this one, to restore (the master's admins see them; "
                           "for anyone else the list is empty)",
                   responses=AccountSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=AccountSerializer, **ACCOUNT_LIST_OPTIONS)
    def deleted(self, request: Request, *args, **kwargs) -> Response:
        """A deleted account is absent for everybody but the master, whose admins may
        restore it; until purged, its data and domains are kept."""
        root = self.get_object()
        found = Account.objects.none()
        if self.identity.account.is_master:
            found = Account.objects.subtree_of(root, include_self=False).filter(deleted_at__isnull=False)
        return self._listed(with_parent(found))

    @extend_schema(summary="Bring a deleted account back (the master's admins; its parent must be live)",
                   request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def restore(self, request: Request, *args, **kwargs) -> Response:
        """A deleted account is absent for everybody but the master, whose admins restore it:
        its domains and data come back as they were. A live account is left as it is."""
        reach = Account.objects.subtree_of(self.identity.account)
        if not self.identity.account.is_master:
            reach = reach.live()
        account = reach.get(pk=kwargs["account_id"])
        self.check_object_permissions(request, account)
        account = actions.do_restore_account(self.identity.user, account, **self._ip())
        return self._shown(account)

    @extend_schema(summary="Make a customer a reseller (the master's admins)",
                   request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def promote(self, request: Request, *args, **kwargs) -> Response:
        account = actions.do_promote_to_reseller(self.identity.user, self.get_object(), **self._ip())
        return self._shown(account)

    @extend_schema(summary="Make a reseller without sub-accounts a customer (the master's admins)",
                   request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def demote(self, request: Request, *args, **kwargs) -> Response:
        account = actions.do_demote_to_customer(self.identity.user, self.get_object(), **self._ip())
        return self._shown(account)

    @extend_schema(summary="Move an account, with everything below it, under another parent "
                           "(the master's admins)",
                   request=MoveSerializer, responses=AccountSerializer)
    @action(detail=True, methods=["post"], serializer_class=MoveSerializer)
    def move(self, request: Request, *args, **kwargs) -> Response:
        """The new parent is looked up within the caller's reach like any account: one
        outside it is "no such account". A parent inside the account itself would make a
        loop and is refused, as is a customer (it has no sub-accounts)."""
        account = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            parent = self.identity.account_named(serializer.validated_data["parent"])
        except Account.DoesNotExist:
            raise ValidationError({"parent": ["No such account."]}) from None
        account = actions.do_move_account(self.identity.user, account, parent, **self._ip())
        return self._shown(account)
