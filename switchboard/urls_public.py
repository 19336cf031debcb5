"""URLs of the provider's host (the master's domains): the admin for master and resellers,
and the endpoints FreeSWITCH fetches its configuration from."""

from django.urls import include, path
from django.views.generic import RedirectView

from tenants.admin import admin_site

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin_site.urls),
    path("freeswitch/", include("fsconf.urls")),
    path("", include("switchboard.urls_api")),
]
