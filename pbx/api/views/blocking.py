"""Call blocks (pbx.actions.blocking): applied before any other routing."""

from __future__ import annotations

from pbx.actions.blocking import do_add_call_block, do_remove_call_block, do_update_call_block
from pbx.api.serializers.blocking import CallBlockSerializer
from pbx.filtersets import CallBlockFilterSet
from pbx.models import CallBlock
from switchboard.api.views import ObjectActions, ObjectViewSet


class CallBlockViewSet(ObjectViewSet):
    queryset = CallBlock.objects.all()
    serializer_class = CallBlockSerializer
    filterset_class = CallBlockFilterSet
    ordering_fields = ["pattern", "created_at"]
    ordering = ["pattern", "id"]
    writes = ObjectActions(create=do_add_call_block, update=do_update_call_block, delete=do_remove_call_block)
