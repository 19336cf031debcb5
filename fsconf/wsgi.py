"""The WSGI fast path for FreeSWITCH's requests: straight from the server to the endpoint
logic, without building a Django request, running middleware or resolving URLs (each a
measurable share of a cached answer's cost; docs/benchmarks.md). Database connections are
opened and recycled as Django's own handler does (close_old_connections around the
request)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus

from django.conf import settings
from django.db import close_old_connections

from common.dbhealth import limits as database_limits
from fsconf.endpoint import handle
from fsconf.request import MAX_BODY_BYTES

PREFIX = "/freeswitch/"


def section_of(path: str) -> tuple[bool, str | None]:
    """Whether ``path`` is the endpoint, and the section it names (None: any)."""
    if not path.startswith(PREFIX):
        return False, None
    section = path[len(PREFIX):].strip("/")
    if "/" in section:
        return False, None
    return True, section or None


def _body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # One byte more than allowed is enough for the parser to refuse it as too large.
    return environ["wsgi.input"].read(min(max(length, 0), MAX_BODY_BYTES + 1)) if length else b""


def freeswitch_app(environ: dict, start_response: Callable, section: str | None) -> Iterable[bytes]:
    # The recycling below may check a connection that failed (a SELECT 1): bounded as the
    # request's own waits are (fsconf.endpoint).
    with database_limits(wait=settings.FSCONF_DATABASE_WAIT):
        close_old_connections()
        try:
            reply = handle(
                remote_addr=environ.get("REMOTE_ADDR", ""),
                forwarded_for=environ.get("HTTP_X_FORWARDED_FOR", ""),
                authorization=environ.get("HTTP_AUTHORIZATION", ""),
                method=environ.get("REQUEST_METHOD", ""),
                body=_body(environ),
                section=section,
            )
        finally:
            # After the request too, as Django's handler does: under gevent every request
            # is a greenlet with connections of its own, and with a pool (CONN_MAX_AGE=0)
            # this is what gives the connection back; skipping it exhausted the pool in
            # the benchmark (docs/benchmarks.md).
            close_old_connections()
    headers = [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
               *reply.headers.items()]
    start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
    return [reply.body]


def with_fast_path(django_app: Callable) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        matched, section = section_of(environ.get("PATH_INFO", ""))
        if matched:
            return freeswitch_app(environ, start_response, section)
        return django_app(environ, start_response)

    return application
