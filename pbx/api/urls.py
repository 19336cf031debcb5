"""Every object of a tenant's PBX, under /api/v1/accounts/{account_id}/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from pbx.api.views.extensions import DeviceViewSet, ExtensionViewSet
from pbx.api.views.ringgroups import RingGroupViewSet

router = SimpleRouter(use_regex_path=False)
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("devices", DeviceViewSet, basename="device")
router.register("ring-groups", RingGroupViewSet, basename="ring-group")

urlpatterns = [
    path("accounts/<int:account_id>/", include(router.urls)),
]
