"""Trunks and gateways, under /api/v1/accounts/{account_id}/trunks/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from carriers.api.views.trunks import TrunkSourceViewSet, TrunkViewSet

router = SimpleRouter(use_regex_path=False)
router.register("trunks", TrunkViewSet, basename="trunk")

urlpatterns = [
    path("accounts/<int:account_id>/", include(router.urls)),
    path("accounts/<int:account_id>/trunk-source/",
         TrunkSourceViewSet.as_view({"get": "retrieve", "put": "update"}), name="trunk-source"),
]
