"""The CDR endpoint's logic, independent of how the request arrived (cdr.views for the
Django stack and the test client, cdr.wsgi for the production fast path).

What FreeSWITCH does with our answer (mod_json_cdr.c / mod_xml_cdr.c, process_cdr): any
2xx ends the post; anything else is logged and retried ``retries`` more times ``delay``
seconds apart, after which the record is written to ``err-log-dir`` and never posted
again by FreeSWITCH itself (docs/cdr.md replays that directory). So:

* stored, or already stored (a retry whose first answer was lost, a replay): 200;
* unreadable: kept whole in cdr_rejectedpost and answered 422, so FreeSWITCH keeps its
  own copy too;
* PostgreSQL unavailable, or a bug of ours: 503, so FreeSWITCH retries and then keeps the
  record on disk. Never a traceback's 500.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError

from cdr.ingest import BadRecord, fields_of, parse
from cdr.store import keep_rejected, store
from fsconf.access import address_allowed, credentials_ok

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _plain(status: int, text: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, (text + "\n").encode(), headers)


STORED = _plain(200, "OK")
DUPLICATE = _plain(200, "OK (already stored)")


def handle(*, remote_addr: str, forwarded_for: str, authorization: str, method: str,
           body: bytes, content_type: str, query_uuid: str) -> Reply:
    if not address_allowed(remote_addr, forwarded_for):
        return _plain(403, "address not allowed")
    if not credentials_ok(authorization):
        return _plain(401, "credentials required", ("WWW-Authenticate", 'Basic realm="freeswitch"'))
    if method != "POST":
        return _plain(405, "POST only", ("Allow", "POST"))
    try:
        fields = fields_of(parse(body, content_type))
    except BadRecord as exc:
        return _reject(body, str(exc), remote_addr, query_uuid, content_type)
    except Exception:
        # A bug of ours on a shape we did not foresee: FreeSWITCH retries, then keeps the
        # record on disk for a replay once it is fixed.
        log.exception("cdr: failed to read a post from %s (uuid=%s)", remote_addr, query_uuid[:80])
        return _plain(503, "temporarily unable to store")
    try:
        stored = store(fields, body)
    except DatabaseError:
        log.exception("cdr: database unavailable storing %s", fields.leg_uuid)
        return _plain(503, "temporarily unable to store")
    except Exception:
        log.exception("cdr: failed to store %s", fields.leg_uuid)
        return _plain(503, "temporarily unable to store")
    return STORED if stored else DUPLICATE


def _reject(body: bytes, reason: str, remote_addr: str, query_uuid: str, content_type: str) -> Reply:
    log.warning("cdr: unreadable post from %s (uuid=%s): %s", remote_addr, query_uuid[:80], reason)
    try:
        keep_rejected(body=body, reason=reason, remote_addr=remote_addr, query_uuid=query_uuid,
                      content_type=content_type)
    except DatabaseError:
        log.exception("cdr: database unavailable keeping an unreadable post")
        return _plain(503, "temporarily unable to store")
    return _plain(422, f"not a call record: {reason[:200]}")
