"""Auto attendants (IVR menus) and their keys (pbx.actions.ivr)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.ivr import do_create_ivr, do_delete_ivr, do_set_ivr_options, do_update_ivr
from pbx.api.serializers.ivr import IvrOptionsSerializer, IvrSerializer
from pbx.filtersets import IvrFilterSet
from pbx.models import Ivr
from switchboard.api.views import ObjectActions, ObjectViewSet


class IvrViewSet(ObjectViewSet):
    queryset = Ivr.objects.prefetch_related("options")
    serializer_class = IvrSerializer
    filterset_class = IvrFilterSet
    ordering_fields = ["name", "number", "created_at", "updated_at"]
    ordering = ["name"]
    writes = ObjectActions(create=do_create_ivr, update=do_update_ivr, delete=do_delete_ivr)

    @extend_schema(methods=["GET"], summary="The menu's keys", responses=IvrOptionsSerializer)
    @extend_schema(methods=["PUT"], summary="Replace the menu's keys", request=IvrOptionsSerializer,
                   responses=IvrOptionsSerializer)
    @action(detail=True, methods=["get", "put"], serializer_class=IvrOptionsSerializer,
            pagination_class=None, filter_backends=[])
    def options(self, request: Request, *args, **kwargs) -> Response:
        ivr = self.get_object()
        if request.method == "PUT":
            serializer = IvrOptionsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            do_set_ivr_options(self.account, ivr, serializer.validated_data["options"], **self.writer())
        keys = ivr.options.order_by("key").values_list("key", "destination")
        return Response(IvrOptionsSerializer({"options": dict(keys)}).data)
