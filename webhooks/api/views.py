"""Webhooks of an account (webhooks.actions), under /api/v1/accounts/{account_id}/:
``webhooks/`` (list, create, read, change, delete; ``rotate-secret``) and
``webhooks/{webhook_id}/deliveries/`` (the delivery log; ``redeliver``). The signing
secret is shown once, in the answer that made it. Rows are in the public schema, looked
up among this account's only: another account's ids are 404 like missing ones."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api.views import AccountScopedViewSet, ObjectActions, ObjectViewSet
from webhooks.actions import (
    do_create_webhook,
    do_delete_webhook,
    do_redeliver,
    do_rotate_webhook_secret,
    do_update_webhook,
)
from webhooks.api.serializers import WebhookDeliverySerializer, WebhookSerializer, WebhookWithSecretSerializer
from webhooks.filtersets import WebhookDeliveryFilterSet, WebhookFilterSet
from webhooks.models import Webhook, WebhookDelivery


class WebhookViewSet(ObjectViewSet):
    serializer_class = WebhookSerializer
    filterset_class = WebhookFilterSet
    ordering_fields = ["created_at", "url"]
    ordering = ["pk"]
    in_account_schema = False  # public rows, keyed by account
    writes = ObjectActions(update=do_update_webhook, delete=do_delete_webhook)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return Webhook.objects.filter(account=self.account)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookWithSecretSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = WebhookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hook, secret = do_create_webhook(self.account, **self.writer(), **serializer.validated_data)
        return self.represent(hook, status_code=status.HTTP_201_CREATED, secret=secret)

    @extend_schema(summary="A new signing secret (shown in this answer only); the old one stops at once",
                   request=None, responses=WebhookWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret", serializer_class=WebhookSerializer)
    def rotate_secret(self, request: Request, *args, **kwargs) -> Response:
        hook, secret = do_rotate_webhook_secret(self.account, self.get_object(), **self.writer())
        return self.represent(hook, secret=secret)


WEBHOOK_ID = OpenApiParameter("webhook_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                              description="The webhook.")


@extend_schema(parameters=[WEBHOOK_ID])
class WebhookDeliveryViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """A webhook's delivery log, newest first."""

    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-pk"]
    in_account_schema = False

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        # Looked up here, after the checkpoint: a person who may not use the API is
        # refused the same whether the webhook exists or not.
        webhook = get_object_or_404(Webhook, pk=self.kwargs["webhook_id"], account=self.account)
        return WebhookDelivery.objects.filter(webhook=webhook, account=self.account)

    @extend_schema(summary="Send the delivery's event again (a new log row, the same event id)",
                   request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, *args, **kwargs) -> Response:
        again = do_redeliver(self.account, self.get_object(), **self.writer())
        return Response(WebhookDeliverySerializer(WebhookDelivery.objects.get(pk=again.pk)).data,
                        status=status.HTTP_202_ACCEPTED)
