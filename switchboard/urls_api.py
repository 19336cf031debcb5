"""The REST API's URLconf, under /api/v1/ on every host (docs/api.md): each app's api/urls,
the OpenAPI document and its two viewers (Swagger UI, Redoc) from our own static files."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from switchboard.api.views import not_found

urlpatterns = [
    path("api/v1/", include([
        path("", include("tenants.api.urls")),
        path("", include("pbx.api.urls")),
        path("", include("carriers.api.urls")),
        path("", include("webhooks.api.urls")),
        path("", include("cdr.api.urls")),
        path("", include("fsnodes.api.urls")),
        # schema=None: the document does not describe itself.
        path("schema/", SpectacularAPIView.as_view(schema=None), name="api-schema"),
        path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
        path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    ])),
    # Anything else under /api/ (an id that is no number, a path that does not exist).
    re_path(r"^api/", not_found),
]
