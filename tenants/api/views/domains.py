"""An account's domains: read them, or replace the set (primary + aliases) at once, as
the admin does (tenants.actions.do_set_domains: names checked, free on the platform)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api.views import AccountScopedViewSet
from tenants import actions
from tenants.api.serializers.domains import DomainsSerializer
from tenants.models import Account


def domains_of(account: Account) -> dict:
    names = list(account.domains.order_by("-is_primary", "domain").values_list("domain", "is_primary"))
    return {"domain": next((n for n, primary in names if primary), ""),
            "aliases": [n for n, primary in names if not primary]}


class DomainsViewSet(AccountScopedViewSet):
    serializer_class = DomainsSerializer
    in_account_schema = False
    pagination_class = None
    filter_backends = []

    @extend_schema(summary="The account's domains")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return Response(domains_of(self.account))

    @extend_schema(summary="Replace the account's domains (primary and aliases)")
    def update(self, request: Request, *args, **kwargs) -> Response:
        serializer = DomainsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.do_set_domains(self.identity.user, self.account, primary=serializer.validated_data["domain"],
                               aliases=serializer.validated_data.get("aliases", []), **self._ip())
        return Response(domains_of(self.account))

    def _ip(self) -> dict:
        return {"ip": self.writer()["ip"]}
