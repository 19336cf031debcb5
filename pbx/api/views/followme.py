"""An extension's follow-me (pbx.actions.followme): read, replace, remove. It is one
object per extension, so it lives at the extension's path and has no id of its own."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from pbx.actions.followme import do_delete_follow_me, do_set_follow_me
from pbx.api.serializers.followme import FollowMeSerializer
from pbx.models import Extension, FollowMe
from switchboard.api.views import AccountScopedViewSet

EXTENSION_ID = OpenApiParameter("extension_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                description="The extension's id.")


@extend_schema(parameters=[EXTENSION_ID])
class FollowMeViewSet(AccountScopedViewSet):
    serializer_class = FollowMeSerializer
    # A write names its object by this, so a read-only caller gets 404 for a missing
    # extension and 403 for an existing one (switchboard.api.permissions).
    lookup_url_kwarg = "extension_id"
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return FollowMe.objects.select_related("extension").prefetch_related("steps__targets")

    def _extension(self) -> Extension:
        extension = Extension.objects.get(pk=self.kwargs["extension_id"])
        self.check_object_permissions(self.request, extension)
        return extension

    def _shown(self, extension: Extension) -> Response:
        follow_me = self.get_queryset().filter(extension=extension).first()
        if follow_me is None:
            raise Http404
        return Response(FollowMeSerializer(follow_me).data)

    @extend_schema(summary="The extension's follow-me (404 when it has none)")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return self._shown(self._extension())

    @extend_schema(summary="Set the extension's follow-me, replacing every step",
                   request=FollowMeSerializer, responses=FollowMeSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:
        extension = self._extension()
        serializer = FollowMeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "active_hours_id" in fields:
            fields["active_hours"] = fields.pop("active_hours_id")
        if "moh_group_id" in fields:
            fields["moh_group"] = fields.pop("moh_group_id")
        do_set_follow_me(self.account, extension, **fields, **self.writer())
        return self._shown(extension)

    @extend_schema(summary="Remove the extension's follow-me (its phones ring again)",
                   responses={204: OpenApiResponse(description="Removed.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        do_delete_follow_me(self.account, self._extension(), **self.writer())
        return Response(status=status.HTTP_204_NO_CONTENT)
