"""The mod_xml_curl endpoint as a Django view: no session, no tenant lookup by hostname
(the tenant comes from the request body). Production traffic takes the WSGI fast path
(fsconf.wsgi) to the same logic."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from fsconf.endpoint import handle


@csrf_exempt
def fetch(request: HttpRequest, section: str | None = None) -> HttpResponse:
    reply = handle(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        method=request.method or "",
        body=request.body,
        section=section,
    )
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers.items():
        response[name] = value
    return response
