"""Live conferences under /api/v1/accounts/{account_id}/conferences/ (issue 13): what is
running in the account's rooms, and the operations a moderator has -- mute, unmute,
deaf, undeaf, kick a member; lock, unlock, record, stop recording a room -- each the
action ``fsnodes.conferences.do_control_member`` / ``do_control_room`` (found among the
account's own conferences, role-checked, sent to the hosting node, audited).

A room or member that is not running in this account (another tenant's included) is 404
like any missing id. A node that cannot be reached answers 503 with the reason, and a
command FreeSWITCH refuses 409: the operation was not done either way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fsnodes import conferences
from fsnodes.api.serializers import ControlResultSerializer, LiveConferenceSerializer
from switchboard.api.permissions import READ_ONLY_MESSAGE
from switchboard.api.schema import ErrorSerializer
from switchboard.api.views import AccountScopedViewSet

ROOM = OpenApiParameter("room", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="The conference room's number (3000), or the running "
                                    "conference's name as listed (3000-acme.example.net).")
MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                             description="The member's id, as the conference lists it.")
UNREACHABLE = OpenApiResponse(ErrorSerializer, description="The node running the conference cannot be "
                              "reached or did not answer in time; nothing was done.")
REFUSED = OpenApiResponse(ErrorSerializer, description="FreeSWITCH refused the command (code "
                          "\"refused\"); nothing was done.")


def _operation(name: str, summary: str, *, member: bool):
    """One POST operation on a room (``conferences/{room}/<name>/``) or on one of its
    members (``conferences/{room}/members/{member_id}/<name>/``)."""
    url_path = f"members/<int:member_id>/{name}" if member else name

    def operation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.control(name, kwargs.get("member_id"))

    # DRF maps the method to the function's own name, which must be its attribute's.
    operation.__name__ = name.replace("-", "_")
    operation.__doc__ = summary
    documented = extend_schema(
        summary=summary, request=None, parameters=[ROOM, *([MEMBER_ID] if member else [])],
        responses={200: ControlResultSerializer, 409: REFUSED, 503: UNREACHABLE})(operation)
    return action(detail=True, methods=["post"], url_path=url_path, url_name=name)(documented)


class LiveConferenceViewSet(AccountScopedViewSet):
    """The account's running conferences (the live registry the nodes' events keep)."""

    serializer_class = LiveConferenceSerializer
    in_account_schema = False  # the registry is in the public schema, keyed by account
    lookup_field = "room"
    lookup_value_converter = "str"
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="The account's running conferences with their members",
                   responses=LiveConferenceSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(LiveConferenceSerializer(conferences.list_conferences(self.account), many=True).data)

    @extend_schema(summary="One running conference with its members", parameters=[ROOM])
    def retrieve(self, request: Request, *args: Any, room: str = "", **kwargs: Any) -> Response:
        return Response(LiveConferenceSerializer(conferences.get_conference(self.account, room)).data)

    def control(self, operation: str, member_id: int | None) -> Response:
        room = self.kwargs["room"]
        # What the path names first: a room or member not running here is 404 for every
        # caller, read-only ones included, exactly like a missing id.
        running = conferences.get_conference(self.account, room)
        if member_id is not None and all(m.member_id != member_id for m in running.members):
            raise exceptions.NotFound()
        if self.identity.read_only:
            raise PermissionDenied(READ_ONLY_MESSAGE)
        if member_id is None:
            result = conferences.do_control_room(self.account, room, operation, **self.writer())
        else:
            result = conferences.do_control_member(self.account, room, member_id, operation, **self.writer())
        answer = {"room": running.room, "operation": operation, "node": result.node, "reply": result.reply}
        if member_id is not None:
            answer["member_id"] = member_id
        return Response(ControlResultSerializer(answer).data)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, conferences.ConferenceNotFound | conferences.MemberNotFound):
            exc = exceptions.NotFound()
        elif isinstance(exc, conferences.NodeUnreachable):
            response = Response({"detail": str(exc), "code": "node_unreachable"},
                                status=status.HTTP_503_SERVICE_UNAVAILABLE)
            response["Retry-After"] = "5"
            return self._finish(response)
        elif isinstance(exc, conferences.CommandFailed):
            return self._finish(Response({"detail": str(exc), "code": "refused"},
                                         status=status.HTTP_409_CONFLICT))
        return super().handle_exception(exc)

    def _finish(self, response: Response) -> Response:
        # As DRF's own handler leaves it: the write's transaction is rolled back (>= 400).
        response.exception = True
        return response

    mute = _operation("mute", "Mute a member (the others stop hearing them)", member=True)
    unmute = _operation("unmute", "Unmute a member", member=True)
    deaf = _operation("deaf", "Make a member deaf (they stop hearing the others)", member=True)
    undeaf = _operation("undeaf", "Let a member hear again", member=True)
    kick = _operation("kick", "Remove a member from the conference (their call ends)", member=True)
    lock = _operation("lock", "Lock the room: nobody else may join", member=False)
    unlock = _operation("unlock", "Unlock the room", member=False)
    record = _operation("record", "Start recording the room (into the account's recordings folder)",
                        member=False)
    stop_recording = _operation("stop-recording", "Stop every recording of the room", member=False)
