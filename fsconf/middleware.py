"""FreeSWITCH's requests skip the rest of the middleware stack: they carry no session,
cookie or CSRF token, and on the hot path every layer costs (see docs/benchmarks.md).
Under the production WSGI entry point they do not reach Django's handler at all
(fsconf.wsgi); this keeps the same behaviour for runserver and the test client."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fsconf.views import fetch
from fsconf.wsgi import section_of


class FreeswitchShortcutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        matched, section = section_of(request.path_info)
        if matched:
            return fetch(request, section)
        return self.get_response(request)
