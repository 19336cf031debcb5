"""Call queues and their agents (pbx.actions.queues; mod_callcenter hears of every change)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.queues import Agent, do_create_queue, do_delete_queue, do_set_queue_agents, do_update_queue
from pbx.api.serializers.queues import CallQueueSerializer, QueueAgentsSerializer
from pbx.filtersets import CallQueueFilterSet
from pbx.models import CallQueue
from switchboard.api.views import ObjectActions, ObjectViewSet


class CallQueueViewSet(ObjectViewSet):
    queryset = CallQueue.objects.all()
    serializer_class = CallQueueSerializer
    filterset_class = CallQueueFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(create=do_create_queue, update=do_update_queue, delete=do_delete_queue)

    @extend_schema(methods=["GET"], summary="The queue's agents", responses=QueueAgentsSerializer)
    @extend_schema(methods=["PUT"], summary="Replace the queue's agents (each keeps its login and pause)",
                   request=QueueAgentsSerializer, responses=QueueAgentsSerializer)
    @action(detail=True, methods=["get", "put"], serializer_class=QueueAgentsSerializer,
            pagination_class=None, filter_backends=[])
    def agents(self, request: Request, *args, **kwargs) -> Response:
        queue = self.get_object()
        if request.method == "PUT":
            serializer = QueueAgentsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            do_set_queue_agents(self.account, queue, [
                Agent(extension=agent["extension"], level=agent.get("level", 1),
                      position=agent.get("position"), login_required=agent.get("login_required", False))
                for agent in serializer.validated_data["agents"]], **self.writer())
        agents = queue.agents.order_by("level", "position", "id")
        return Response(QueueAgentsSerializer({"agents": agents}).data)
