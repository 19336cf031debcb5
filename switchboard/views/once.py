"""Secrets shown once, after a redirect (POST → 303 → GET). The page that shows a new
SIP secret, PIN or signing secret used to be the POST's own answer, so a browser's reload
sent the form again and silently made another device or another secret. The write now
answers with a redirect to its own page's URL carrying a one-use token; the secret waits
for that GET in the session, encrypted like every secret at rest (common.secrets), and
is taken from it by the first GET: a reload of the shown page finds nothing and shows the
form again, making nothing."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from common.secrets import decrypt_secret, encrypt_secret

SESSION_KEY = "switchboard.shown_once"
PARAMETER = "shown"
# Shown pages waiting for their GET at most (a tab that never followed its redirect).
_KEPT = 8


class _SeeOther(HttpResponseRedirect):
    status_code = 303


def redirect_to_shown(request: HttpRequest, **payload: Any) -> HttpResponse:
    """Keep ``payload`` (JSON-able: primary keys and the secret) for the next GET of this
    URL with the token, and redirect there."""
    token = secrets.token_urlsafe(16)
    waiting = dict(list(request.session.get(SESSION_KEY, {}).items())[-(_KEPT - 1):])
    waiting[token] = encrypt_secret(json.dumps(payload))
    request.session[SESSION_KEY] = waiting
    return _SeeOther(f"{request.path}?{PARAMETER}={token}")


def take_shown(request: HttpRequest) -> dict[str, Any] | None:
    """The payload the request's token names, removed from the session (None: no token,
    or one already taken)."""
    token = request.GET.get(PARAMETER)
    waiting = request.session.get(SESSION_KEY)
    if not token or not waiting or token not in waiting:
        return None
    plain = decrypt_secret(waiting.pop(token))
    request.session[SESSION_KEY] = waiting
    return json.loads(plain) if plain else None


def no_store(response: HttpResponse) -> HttpResponse:
    """The secret is in this answer only: no cache may keep it."""
    response["Cache-Control"] = "no-store"
    return response
