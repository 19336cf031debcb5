"""FreeSWITCH's requests skip the rest of the middleware stack: they carry no session,
cookie or CSRF token, and on the hot path every layer costs (see docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fsconf.views import fetch

PREFIX = "/freeswitch/"


class FreeswitchShortcutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(PREFIX):
            section = path[len(PREFIX):].strip("/")
            if "/" not in section:
                return fetch(request, section or None)
        return self.get_response(request)
