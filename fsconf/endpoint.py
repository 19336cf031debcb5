"""The xml_curl endpoint's logic, independent of how the request arrived: the Django view
(fsconf.views) and the WSGI fast path (fsconf.wsgi) both call ``handle``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError

from common.dbhealth import breaker
from common.dbhealth import limits as database_limits
from fsconf.access import address_allowed, credentials_ok
from fsconf.request import BadFetch, parse_fetch_body
from fsconf.sections import answer

log = logging.getLogger(__name__)

STALE_HEADER = "X-Switchboard-Stale"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


def _plain(status: int, text: str, **headers: str) -> Reply:
    return Reply(status, (text + "\n").encode(), "text/plain", headers)


def handle(*, remote_addr: str, forwarded_for: str, authorization: str, method: str,
           body: bytes, section: str | None) -> Reply:
    if not address_allowed(remote_addr, forwarded_for):
        return _plain(403, "address not allowed")
    if not credentials_ok(authorization):
        return _plain(401, "credentials required", **{"WWW-Authenticate": 'Basic realm="freeswitch"'})
    if method != "POST":
        return _plain(405, "POST only", Allow="POST")
    try:
        fetched = parse_fetch_body(body)
    except BadFetch as exc:
        log.warning("xml_curl: bad request from %s: %s", remote_addr, exc)
        return _plain(400, f"not a mod_xml_curl request: {exc}")
    if section is not None and fetched.section != section:
        return _plain(400, f"this URL answers section={section}, not {fetched.section}")
    try:
        # Every database wait ends within FSCONF_DATABASE_WAIT, and while the breaker is
        # open none is even tried, so the last known good answer (or this 503) comes well
        # inside FreeSWITCH's 3 s timeout, partition or not (common.dbhealth).
        with database_limits(wait=settings.FSCONF_DATABASE_WAIT):
            answered = answer(fetched)
    except DatabaseError as exc:
        # 503: FreeSWITCH tries its next binding, then its static files.
        if breaker.is_open:
            # The outage is logged once, by the breaker; not a traceback per request.
            log.warning("xml_curl: database unavailable, %s not answered: %s", fetched.section, exc)
        else:
            log.exception("xml_curl: database unavailable for %s", fetched.section)
        return _plain(503, "temporarily unable to answer")
    except Exception:
        # A bug of ours: FreeSWITCH is better served by its next binding than by a 500.
        log.exception("xml_curl: failed to answer %s", fetched.section)
        return _plain(503, "temporarily unable to answer")
    headers = {STALE_HEADER: "database unavailable; last known good answer"} if answered.stale else {}
    return Reply(200, answered.body, "text/xml", headers)
