"""The route explainer (pbx.explain) as ``GET /api/v1/accounts/{account_id}/explain``:
the decisions a call from ``from`` to ``to`` at ``at`` would go through, the same hops the
portal's "Where does this call go?" page shows. It reads and changes nothing, so every
role may ask."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.api.serializers.explain import ExplainQuerySerializer, ExplainSerializer, hop
from pbx.explain import explain_route
from switchboard.api.views import AccountScopedViewSet


class ExplainViewSet(AccountScopedViewSet):
    """Routed by hand (``{"get": "explain"}``, not a router's list): one answer, not a list."""

    serializer_class = ExplainSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="Where does this call go? Each hop of a call, as the dialplan would route it",
                   parameters=[ExplainQuerySerializer], responses=ExplainSerializer)
    def explain(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ExplainQuerySerializer(data=request.query_params,
                                       context={"timezone": zoneinfo.ZoneInfo(self.account.timezone)})
        query.is_valid(raise_exception=True)
        caller, dialed = query.validated_data["from"].strip(), query.validated_data["to"].strip()
        at = query.validated_data["at"] or timezone.now()
        decisions = explain_route(self.account, caller, dialed, at)
        return Response(ExplainSerializer(
            {"from": caller, "to": dialed, "at": at, "hops": [hop(d) for d in decisions]}).data)
