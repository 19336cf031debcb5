"""The REST API's URLconf, under /api/v1/ on every host (docs/api.md): each app's api/urls,
the OpenAPI document and its two viewers (Swagger UI, Redoc) from our own static files."""

from typing import Any, ClassVar

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.response import Response

from switchboard.api.views import not_found


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, built once per process and version: it is the same for every
    caller (SERVE_PUBLIC: not filtered by who asks) until the code changes, and building
    it takes seconds of CPU (~450 KB; 8 s on a loaded 2-core machine), on a URL anyone may
    ask for. Two threads asking first may both build it; either result is the same."""

    built: ClassVar[dict[Any, dict]] = {}

    def _get_schema_response(self, request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        schema = self.built.get(version)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version,
                                             patterns=self.patterns)
            schema = self.built[version] = generator.get_schema(request=request, public=self.serve_public)
        return Response(data=schema, headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})

urlpatterns = [
    path("api/v1/", include([
        path("", include("tenants.api.urls")),
        path("", include("pbx.api.urls")),
        path("", include("carriers.api.urls")),
        path("", include("webhooks.api.urls")),
        path("", include("cdr.api.urls")),
        path("", include("fsnodes.api.urls")),
        # schema=None: the document does not describe itself.
        path("schema/", SchemaView.as_view(schema=None), name="api-schema"),
        path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
        path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    ])),
    # Anything else under /api/ (an id that is no number, a path that does not exist).
    re_path(r"^api/", not_found),
]
