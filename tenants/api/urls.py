from django.urls import path
from rest_framework.routers import SimpleRouter

from tenants.api.views.accounts import AccountViewSet
from tenants.api.views.domains import DomainsViewSet
from tenants.api.views.jobs import JobViewSet

router = SimpleRouter(use_regex_path=False)
router.register("accounts", AccountViewSet, basename="account")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    *router.urls,
    path("accounts/<int:account_id>/domains/", DomainsViewSet.as_view({"get": "retrieve", "put": "update"}),
         name="domains"),
]
