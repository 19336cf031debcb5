"""The CDR endpoint as a Django view (runserver, the test client); production takes the
WSGI fast path (cdr.wsgi) to the same logic."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from cdr.endpoint import handle
from cdr.ingest import MAX_BODY_BYTES


@csrf_exempt
def receive(request: HttpRequest) -> HttpResponse:
    # One byte more than allowed is enough for the parser to refuse it as too large.
    body = request.read(MAX_BODY_BYTES + 1)
    reply = handle(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        method=request.method or "",
        body=body,
        content_type=request.META.get("CONTENT_TYPE", ""),
        query_uuid=request.GET.get("uuid", ""),
    )
    response = HttpResponse(reply.body, status=reply.status, content_type="text/plain")
    for name, value in reply.headers:
        response[name] = value
    return response
