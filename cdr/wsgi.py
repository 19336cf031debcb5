"""The WSGI fast path for FreeSWITCH's call-record posts: straight from the server to the
endpoint logic, without a Django request, middleware or URL resolution (as fsconf.wsgi
does for xml_curl). Database connections are opened and recycled as Django's handler does,
every wait bounded by CDR_DATABASE_WAIT (the recycling's health check too)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from urllib.parse import parse_qs

from django.conf import settings
from django.db import close_old_connections, connection

from cdr.endpoint import handle
from cdr.ingest import MAX_BODY_BYTES
from common.dbhealth import limits as database_limits

# mod_json_cdr's and mod_xml_cdr's URLs (deploy/freeswitch/autoload_configs/json_cdr.conf.xml).
# Two path segments: fsconf's fast path takes every single-segment /freeswitch/<section>.
PATHS = frozenset({"/freeswitch/cdr/json", "/freeswitch/cdr/xml",
                   "/freeswitch/cdr/json/", "/freeswitch/cdr/xml/"})


def _body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(max(length, 0), MAX_BODY_BYTES + 1)) if length > 0 else b""


def _recycle_connections() -> None:
    # Never inside a transaction the caller holds (Django's test client disconnects the
    # same recycling from its request signals for that reason): closing would abort it.
    if not connection.in_atomic_block:
        close_old_connections()


def cdr_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    with database_limits(wait=settings.CDR_DATABASE_WAIT):
        _recycle_connections()
        try:
            reply = handle(
                remote_addr=environ.get("REMOTE_ADDR", ""),
                forwarded_for=environ.get("HTTP_X_FORWARDED_FOR", ""),
                authorization=environ.get("HTTP_AUTHORIZATION", ""),
                method=environ.get("REQUEST_METHOD", ""),
                body=_body(environ),
                content_type=environ.get("CONTENT_TYPE", ""),
                query_uuid=(parse_qs(environ.get("QUERY_STRING", "")).get("uuid") or [""])[0],
            )
        finally:
            _recycle_connections()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(reply.body))), *reply.headers]
    start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
    return [reply.body]


def with_cdr_fast_path(app: Callable) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in PATHS:
            return cdr_app(environ, start_response)
        return app(environ, start_response)

    return application
