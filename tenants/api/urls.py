from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tenants.api.views.accounts import AccountViewSet
from tenants.api.views.audit import AuditEventViewSet
from tenants.api.views.domains import DomainsViewSet
from tenants.api.views.jobs import JobViewSet
from tenants.api.views.roles import RoleViewSet
from tenants.api.views.users import ApiKeyViewSet, StaffUserViewSet

router = SimpleRouter(use_regex_path=False)
router.register("accounts", AccountViewSet, basename="account")
# What belongs to one account, under /api/v1/accounts/{account_id}/.
account_router = SimpleRouter(use_regex_path=False)
account_router.register("audit-events", AuditEventViewSet, basename="audit-event")
account_router.register("users", StaffUserViewSet, basename="staff-user")
account_router.register("users/<int:user_id>/api-keys", ApiKeyViewSet, basename="api-key")
router.register("jobs", JobViewSet, basename="job")
router.register("roles", RoleViewSet, basename="role")

urlpatterns = [
    *router.urls,
    path("accounts/<int:account_id>/domains/", DomainsViewSet.as_view({"get": "retrieve", "put": "update"}),
         name="domains"),
    path("accounts/<int:account_id>/", include(account_router.urls)),
]
