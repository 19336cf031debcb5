"""URLs of a tenant's own hostname: the REST API (for that tenant and below) and its portal."""

from django.urls import include, path

urlpatterns = [
    path("", include("switchboard.urls_api")),
    path("", include("pbx.portal.urls")),
]
