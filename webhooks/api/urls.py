"""Webhooks of an account, under /api/v1/accounts/{account_id}/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from webhooks.api.views import WebhookDeliveryViewSet, WebhookViewSet

router = SimpleRouter(use_regex_path=False)
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("webhooks/<int:webhook_id>/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("accounts/<int:account_id>/", include(router.urls)),
]
