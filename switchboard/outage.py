"""The admin, the portal and the API while PostgreSQL is unreachable: a 503 page that says
so, with ``Retry-After``, instead of Django's bare 500; the outage logged once, not per
request; back to normal by itself as soon as the database answers.

``DatabaseOutageMiddleware`` sits right after the FreeSWITCH shortcut (whose requests
answer from their last known good documents, fsconf) and before the tenant middleware,
whose hostname lookup is every request's first query. While the breaker is open
(common.dbhealth) it answers 503 at once, touching nothing. Otherwise a database error
anywhere below -- the tenant lookup, the session, a view -- is turned by Django into a
500 response at the layer it happened, so no outer middleware sees the exception; Django
does send ``got_request_exception`` with the request while handling it, and the receiver
here marks the request so the middleware can swap that 500 for the 503 page. The
``UnloggedOutage`` filter keeps Django's "Internal Server Error" traceback for those
requests out of the log.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from common.dbhealth import breaker
from common.dbhealth import limits as database_limits

log = logging.getLogger("switchboard.outage")

RETRY_AFTER_SECONDS = 10
_MARK = "_switchboard_database_outage"
API_PREFIX = "/api/"
# Set while 503s are being answered, so the first one logs and the rest do not.
_reported = threading.Event()


def _note_database_outage(sender, request: HttpRequest | None = None, **kwargs) -> None:
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, (OperationalError, InterfaceError)):
        setattr(request, _MARK, error)


got_request_exception.connect(_note_database_outage, dispatch_uid="switchboard.outage")


class UnloggedOutage(logging.Filter):
    """For ``django.request``: drop the per-request records ("Internal Server Error" with
    its traceback, "Service Unavailable") of a request answered with the outage page; the
    outage itself is logged once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not hasattr(getattr(record, "request", None), _MARK)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer. Rendered without the request's context processors, which would
    read the database (the signed-in user, the tenant)."""
    if not hasattr(request, _MARK):
        setattr(request, _MARK, None)  # Django's "Service Unavailable" line is not logged either
    message = ("The service is temporarily unavailable: its database cannot be reached. "
               "Please try again shortly.")
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message,
                                                              "retry_after": RETRY_AFTER_SECONDS}),
                                status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if breaker.is_open:
            return unavailable_response(request)
        # A page may be slower than an xml_curl answer, but no wait is endless.
        with database_limits(wait=settings.WEB_DATABASE_WAIT):
            response = self.get_response(request)
        if hasattr(request, _MARK):
            error = getattr(request, _MARK)
            self._report(request, error)
            return unavailable_response(request)
        if _reported.is_set():
            _reported.clear()
            log.warning("database errors are over: the admin and portal answer again")
        return response

    @staticmethod
    def _report(request: HttpRequest, error: Exception | None) -> None:
        """Log the start of an outage once. One that opened the breaker was logged by it
        (and its end will be); an error that did not (a statement timeout, a connection
        lost mid-request) is logged here, once until a request succeeds again."""
        if error is None or breaker.is_open or _reported.is_set():
            return
        _reported.set()
        log.error("database error on %s %s, answering 503 until the database answers again: %s",
                  request.method, request.path, " ".join(str(error).split()))
