"""Extensions and their devices (SIP credentials): pbx.actions.extensions writes them. A
device's SIP secret is shown once, in the answer that made it (create, or regenerate)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from pbx import bulk
from pbx.actions.extensions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.api.serializers.extensions import (
    DeviceSerializer,
    DeviceWithSecretSerializer,
    ExtensionSerializer,
    NewDeviceSerializer,
)
from pbx.filtersets import DeviceFilterSet, ExtensionFilterSet
from pbx.models import Device, Extension
from switchboard.api.parsers import CsvTextParser
from switchboard.api.views import ObjectActions, ObjectViewSet
from tenants.api.serializers.jobs import JobSerializer


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file (UTF-8; row 1 names the columns).")


class ImportOptionsSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False)
    mode = serializers.ChoiceField(choices=bulk.MODES, default="all_or_nothing")
    existing = serializers.ChoiceField(choices=bulk.EXISTING, default="error")


IMPORT_PARAMETERS = [
    OpenApiParameter("dry_run", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
                     description="Check every row and report, keep nothing."),
    OpenApiParameter("mode", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     enum=list(bulk.MODES),
                     description="all_or_nothing (default): any row error keeps nothing; best_effort: "
                                 "the rows without errors are kept."),
    OpenApiParameter("existing", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     enum=list(bulk.EXISTING),
                     description="A row whose number is an existing extension's: error (default): a row "
                                 "error; update: the extension is changed in the file's columns (an empty "
                                 "cell is the default, except secrets: kept); skip: the row is left out."),
]


class ExtensionViewSet(ObjectViewSet):
    queryset = Extension.objects.prefetch_related("devices")
    serializer_class = ExtensionSerializer
    filterset_class = ExtensionFilterSet
    ordering_fields = ["number", "name", "created_at", "updated_at"]
    ordering = ["number"]
    writes = ObjectActions(create=do_create_extension, update=do_update_extension, delete=do_delete_extension)

    @extend_schema(
        summary="Import extensions from a CSV (a background job to poll)",
        request={"multipart/form-data": ImportFileSerializer, "text/csv": OpenApiTypes.STR},
        parameters=IMPORT_PARAMETERS,
        responses={202: OpenApiResponse(JobSerializer, description="Queued: poll GET /api/v1/jobs/{id}/.")},
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            serializer_class=ImportFileSerializer, parser_classes=[MultiPartParser, CsvTextParser],
            filterset_class=None, pagination_class=None)
    def import_csv(self, request: Request, *args, **kwargs) -> Response:
        """One extension per row, with its voicemail box, caller ID and phones (columns in
        docs/api.md; the export's header is a template). Every row goes through the same
        checks as a single create; the file as a whole is checked here (400). The job
        runs in the background: ``all_or_nothing`` (default) keeps nothing when any row
        has an error, ``best_effort`` keeps the rows without errors, ``dry_run`` keeps
        nothing and reports what would happen. Either way every row's errors are listed.
        ``existing`` says what a row whose number exists does: ``error`` (default),
        ``update`` (through the same checks as a single update) or ``skip``; the job's
        ``result.report`` gives each row's outcome."""
        options = ImportOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        data = request.data
        if isinstance(data, str):
            text = data
        else:
            upload = data.get("file") if hasattr(data, "get") else None
            if upload is None or isinstance(upload, str):
                raise exceptions.ValidationError({"file": [
                    "Send the CSV as the multipart field “file”, or as the body with "
                    "Content-Type: text/csv."]})
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise exceptions.ValidationError({"file": ["The CSV is not UTF-8 text."]}) from exc
        try:
            job = bulk.start_import_job(self.account, text, **self.writer(), **options.validated_data)
        except bulk.CsvRefused as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/api/v1/jobs/{job.pk}/"})

    @extend_schema(
        summary="Every extension as CSV (the import's columns)",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV, streamed.")},
    )
    @action(detail=False, methods=["get"], url_path="export", url_name="export", pagination_class=None)
    def export_csv(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        """The extensions the list would show (same filters), by number, one row each,
        with the import's columns, so the file imports into another account as it is.
        Secrets stay out: the voicemail PIN and SIP secret cells are empty."""
        queryset = self.filter_queryset(Extension.objects.all())
        response = StreamingHttpResponse(bulk.export_csv(self.account, queryset),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="extensions.csv"'
        return response


def _add_device(account, *, extension, actor, ip, **fields) -> tuple[Device, str]:
    return do_add_device(account, extension, actor=actor, ip=ip, **fields)


class DeviceViewSet(ObjectViewSet):
    queryset = Device.objects.select_related("extension")
    serializer_class = DeviceSerializer
    create_serializer_class = NewDeviceSerializer
    filterset_class = DeviceFilterSet
    ordering_fields = ["username", "created_at"]
    ordering = ["username"]
    writes = ObjectActions(update=lambda account, device, **kw: do_update_device(account, device, **kw)[0],
                           delete=do_remove_device)

    @extend_schema(request=NewDeviceSerializer, responses={201: DeviceWithSecretSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = NewDeviceSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        device, secret = _add_device(self.account, **self.writer(), **serializer.validated_data)
        return self.represent(device, status_code=status.HTTP_201_CREATED, secret=secret)

    @extend_schema(summary="Give the device a new SIP secret (shown in this answer only)",
                   request=None, responses=DeviceWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-secret", serializer_class=DeviceSerializer)
    def regenerate_secret(self, request: Request, *args, **kwargs) -> Response:
        device, secret = do_update_device(self.account, self.get_object(), rotate_secret=True,
                                          **self.writer())
        return self.represent(device, secret=secret)
