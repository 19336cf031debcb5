"""The staff roles and what each may do (tenants/api/roles.py reads it off the actions'
own checks). The same for every caller; a plain list (five roles: no pages)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from switchboard.api.views import ApiViewSet
from tenants.api.roles import roles
from tenants.api.serializers.roles import RoleSerializer


class RoleViewSet(ApiViewSet):
    serializer_class = RoleSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="The staff roles, with what each may do",
                   responses=RoleSerializer(many=True))
    def list(self, request: Request, *args, **kwargs) -> Response:
        """Each role a staff user's ``role`` takes, in the model's order, with its label,
        a description and ``may``: what it may do within the user's account and the
        accounts below (codes ``read``, ``pbx.write``, ``pbx.queues``, ``pbx.own_phone``,
        ``users.manage``, ``users.activate``, ``employees.activate``,
        ``accounts.manage``, ``admin``), read off the checks the actions make."""
        return Response(RoleSerializer(roles(), many=True).data)
