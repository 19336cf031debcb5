"""URLs of a tenant's own hostname: its portal."""

from django.urls import include, path

urlpatterns = [
    path("", include("pbx.portal.urls")),
]
