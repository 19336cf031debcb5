"""The audit log of an account and everything below it, read-only. An event is the
account's while the account sits where it happened (its tree path then), so a reseller
reads its subtree's with one prefix scan; pages are a cursor over (time, id), newest
first, so a page deep in a long log costs what the first one does (no count, no offset)."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.pagination import CursorPagination

from switchboard.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from switchboard.api.views import AccountScopedViewSet
from tenants.api.serializers.audit import AuditEventSerializer
from tenants.filtersets import AuditEventFilterSet
from tenants.models import AuditEvent


class NewestFirst(CursorPagination):
    ordering = ("-at", "-id")
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


@extend_schema_view(
    list=extend_schema(summary="The audit log of this account and every account below it, newest first"),
    retrieve=extend_schema(summary="One audit event"),
)
class AuditEventViewSet(AccountScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    serializer_class = AuditEventSerializer
    in_account_schema = False
    filterset_class = AuditEventFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = NewestFirst

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        events = AuditEvent.objects.visible_to(self.identity.account)
        if not self.account.is_master:
            # The master's path also starts the events of accounts since purged (no path).
            events = events.filter(scope_path__startswith=self.account.path)
        return events
