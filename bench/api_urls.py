"""The provider host's URLs plus one bare DRF view, for bench.api_latency only (mounted by
bench.settings_api): the same server, in the same run, answering a fixed small JSON
through DRF with no authentication, no database and no tenant work in the view, the
floor under which no API view can go."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BareView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response({"ok": True, "items": [1, 2, 3]})


urlpatterns = [
    path("bench/bare/", BareView.as_view()),
    path("", include("switchboard.urls_public")),
]
