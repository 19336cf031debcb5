"""Ring groups and their members (pbx.actions.ringgroups)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.ringgroups import (
    do_create_ring_group,
    do_delete_ring_group,
    do_set_ring_group_members,
    do_update_ring_group,
)
from pbx.api.serializers.ringgroups import RingGroupMembersSerializer, RingGroupSerializer
from pbx.filtersets import RingGroupFilterSet
from pbx.models import RingGroup
from switchboard.api.views import ObjectActions, ObjectViewSet


class RingGroupViewSet(ObjectViewSet):
    queryset = RingGroup.objects.prefetch_related("members")
    serializer_class = RingGroupSerializer
    filterset_class = RingGroupFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(create=do_create_ring_group, update=do_update_ring_group,
                           delete=do_delete_ring_group)

    @extend_schema(methods=["GET"], summary="The group's members, in ringing order",
                   responses=RingGroupMembersSerializer)
    @extend_schema(methods=["PUT"], summary="Replace the group's members (rung in this order)",
                   request=RingGroupMembersSerializer, responses=RingGroupMembersSerializer)
    @action(detail=True, methods=["get", "put"], serializer_class=RingGroupMembersSerializer,
            pagination_class=None, filter_backends=[])
    def members(self, request: Request, *args, **kwargs) -> Response:
        group = self.get_object()
        if request.method == "PUT":
            serializer = RingGroupMembersSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            do_set_ring_group_members(
                self.account, group,
                [(m["destination"], m.get("ring_seconds"), m.get("enabled", True))
                 for m in serializer.validated_data["members"]],
                **self.writer(),
            )
            group = self.get_queryset().get(pk=group.pk)
        return Response(RingGroupMembersSerializer({"members": group.members.all()}).data)
