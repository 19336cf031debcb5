"""Call history, its CSV export, reports and usage under /api/v1/accounts/{account_id}/.

Read-only. The account named in the path is found within the caller's reach (else 404,
like a missing one); its records are its own, or its subtree's for a reseller or the
master (cdr.queries.records_of). Records live in the public schema, so no tenant schema
is entered (``in_account_schema = False``)."""

from __future__ import annotations

import zoneinfo

from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cdr.api.serializers import (
    CallRecordSerializer,
    CallReportSerializer,
    MonthSerializer,
    RangeSerializer,
    UsageSerializer,
)
from cdr.export import csv_response
from cdr.filtersets import CallRecordFilterSet
from cdr.models import CallRecord
from cdr.names import label
from cdr.queries import BadCursor, keyset_page, records_of
from cdr.reports import call_report, usage
from switchboard.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from switchboard.api.views import AccountScopedViewSet

INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: the messages per field.")
# Rows fetched per round trip of the server-side cursor.
CSV_CHUNK = 2000


class CallFilterBackend(DjangoFilterBackend):
    """The FilterSet reads dates in the account's time zone."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            filterset.zone = zoneinfo.ZoneInfo(view.account.timezone)
        return filterset


class KeysetPages(BasePagination):
    """``?cursor=`` pages, newest first (cdr.queries.keyset_page): ``next`` (older),
    ``previous`` (newer) and ``last`` (the oldest page) links; no count, so no page
    costs more than the first."""

    def paginate_queryset(self, queryset, request: Request, view=None):
        try:
            size = int(request.query_params.get("page_size", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise exceptions.ValidationError({"page_size": ["A whole number."]}) from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError({"page_size": [f"From 1 to {MAX_PAGE_SIZE}."]})
        try:
            self.page = keyset_page(queryset, request.query_params.get("cursor") or None, size)
        except BadCursor as exc:
            raise exceptions.ValidationError({"cursor": [str(exc)]}) from exc
        self.request = request
        return self.page.rows

    def _link(self, token: str | None) -> str | None:
        return replace_query_param(self.request.build_absolute_uri(), "cursor", token) if token else None

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self._link(self.page.next), "previous": self._link(self.page.previous),
                         "last": self._link("last"), "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {"type": "object", "required": ["next", "previous", "last", "results"],
                "properties": {"next": {**link, "description": "Older records."},
                               "previous": {**link, "description": "Newer records."},
                               "last": {"type": "string", "format": "uri",
                                        "description": "The oldest records of the search."},
                               "results": schema}}

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "From a next/previous/last link (\"last\": the oldest page)."},
            {"name": "page_size", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}},
        ]


class CsvRenderer(renderers.BaseRenderer):
    """Lets a request that asks for text/csv reach the export (which streams its own body)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else str(data).encode()


class CallRecordViewSet(AccountScopedViewSet):
    """Call records: one row per leg (a: the call as it came in, b: each phone or
    gateway we rang)."""

    in_account_schema = False
    queryset = CallRecord.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = CallRecordSerializer
    filter_backends = [CallFilterBackend]
    filterset_class = CallRecordFilterSet
    pagination_class = KeysetPages

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return records_of(self.account).defer("raw")

    @extend_schema(summary="Search call records", responses=CallRecordSerializer(many=True))
    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        rows = label(self.paginate_queryset(queryset), self.identity.account)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(summary="The same search as CSV, streamed", filters=True,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV rows"),
                              400: INVALID})
    def export(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return csv_response(self.filter_queryset(self.get_queryset()), self.account, self.identity.account)

    def get_renderers(self):
        if getattr(self, "action", None) == "export":
            return [renderers.JSONRenderer(), CsvRenderer()]
        return super().get_renderers()


class CallReportViewSet(AccountScopedViewSet):
    in_account_schema = False

    @extend_schema(summary="ASR, ALOC, calls per hour/day, per extension, number and trunk",
                   parameters=[RangeSerializer], responses={200: CallReportSerializer, 400: INVALID})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        asked = RangeSerializer(data=request.query_params)
        asked.is_valid(raise_exception=True)
        asked_for = asked.validated_data
        report = call_report(self.account, asked_for.get("since"), asked_for.get("until"))
        return Response(CallReportSerializer(report).data)


class UsageViewSet(AccountScopedViewSet):
    in_account_schema = False

    @extend_schema(summary="A month's usage per account of the subtree, rolled up the tree",
                   parameters=[MonthSerializer], responses={200: UsageSerializer, 400: INVALID})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        asked = MonthSerializer(data=request.query_params)
        asked.is_valid(raise_exception=True)
        zone = zoneinfo.ZoneInfo(self.account.timezone)
        month = asked.validated_data.get("month") or timezone.now().astimezone(zone).date().replace(day=1)
        rows = usage(self.account, month)
        by_path = {row.account.path: row.account.pk for row in rows}
        steplen = type(self.account).steplen
        parents = {row.account.pk: by_path.get(row.account.path[:-steplen]) for row in rows}
        return Response(UsageSerializer({"month": f"{month:%Y-%m}", "accounts": rows},
                                        context={"parents": parents}).data)
