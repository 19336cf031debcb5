"""Call-record posts skip the rest of the middleware stack (no session, cookie, CSRF
token or tenant host), as fsconf.middleware does for xml_curl; under the production WSGI
entry point they do not reach Django's handler at all (cdr.wsgi)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from cdr.views import receive
from cdr.wsgi import PATHS


class CallRecordShortcutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PATHS:
            return receive(request)
        return self.get_response(request)
