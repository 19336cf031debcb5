"""Live conferences, under /api/v1/accounts/{account_id}/conferences/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from fsnodes.api.views import LiveConferenceViewSet

router = SimpleRouter(use_regex_path=False)
router.register("conferences", LiveConferenceViewSet, basename="conference")

urlpatterns = [
    path("accounts/<int:account_id>/", include(router.urls)),
]
