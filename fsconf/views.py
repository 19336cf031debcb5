"""The mod_xml_curl endpoint: one small function view, no session, no tenant lookup by
hostname (the tenant comes from the request body)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from fsconf.access import address_allowed, credentials_ok
from fsconf.request import BadFetch, parse_fetch_body
from fsconf.sections import answer

log = logging.getLogger(__name__)


def _plain(status: int, text: str, **headers: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain")
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def fetch(request: HttpRequest, section: str | None = None) -> HttpResponse:
    if not address_allowed(request.META.get("REMOTE_ADDR", ""),
                           request.META.get("HTTP_X_FORWARDED_FOR", "")):
        return _plain(403, "address not allowed")
    if not credentials_ok(request.META.get("HTTP_AUTHORIZATION", "")):
        return _plain(401, "credentials required", **{"WWW-Authenticate": 'Basic realm="freeswitch"'})
    if request.method != "POST":
        return _plain(405, "POST only", Allow="POST")
    try:
        fetched = parse_fetch_body(request.body)
    except BadFetch as exc:
        log.warning("xml_curl: bad request from %s: %s", request.META.get("REMOTE_ADDR"), exc)
        return _plain(400, f"not a mod_xml_curl request: {exc}")
    if section is not None and fetched.section != section:
        return _plain(400, f"this URL answers section={section}, not {fetched.section}")
    try:
        answered = answer(fetched)
    except DatabaseError:
        # 503: FreeSWITCH tries its next binding, then its static files.
        log.exception("xml_curl: database unavailable for %s", fetched.section)
        return _plain(503, "temporarily unable to answer")
    except Exception:
        # A bug of ours: FreeSWITCH is better served by its next binding than by a 500.
        log.exception("xml_curl: failed to answer %s", fetched.section)
        return _plain(503, "temporarily unable to answer")
    response = HttpResponse(answered.body, content_type="text/xml")
    if answered.stale:
        response["X-Switchboard-Stale"] = "database unavailable; last known good answer"
    return response
