"""Sign-in throttling on the admin and every portal (django-axes, configured in settings).

Failures are counted per username and, separately, per client address (the same address
the audit log records, ``tenants.http.client_ip``). When either count reaches
``AXES_FAILURE_LIMIT`` within ``AXES_COOLOFF_TIME``, that username is refused on every
host (usernames are platform-wide: per-host counts would multiply an attacker's
guesses by the number of portals), or that address is refused for every username,
until the failures age out. What this module adds to axes:

* the sign-in forms say "Too many failed sign-in attempts; try again in N minutes" and
  the response is HTTP 429 with ``Retry-After``;
* a refusal that looks like a wrong password (a user of another tenant on a portal, a
  customer's user on the admin) counts like one, so the counts reveal nothing either;
* the start of a lockout is written to the audit log;
* a successful sign-in clears that username's failures, not the address's failures for
  other usernames (axes' ``AXES_RESET_ON_SUCCESS`` would clear every failure from the
  address: one valid account would then buy an attacker unlimited guesses at others).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_parameters, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tenants.actions import record
from tenants.models import User
from tenants.scoping import require_master_admin

LOCKOUT_AUDIT_ACTION = "login.locked_out"


def active_locks(request: HttpRequest, username: str | None) -> dict[str, int]:
    """The lockouts that hold now for this client and username, as {"username" or
    "ip_address": seconds until it lifts}. A lock lifts when its recent failures fall
    below the limit, i.e. when the attempt that brought them to the limit ages out."""
    AxesProxyHandler.update_request(request)
    credentials = {"username": username}
    limit = get_failure_limit(request, credentials)
    cool_off: timedelta = get_cool_off(request)
    now = timezone.now()
    locks: dict[str, int] = {}
    for filters in get_client_parameters(username, request.axes_ip_address, request.axes_user_agent,
                                         request, credentials):
        if any(value is None for value in filters.values()):
            continue
        recent = (AccessAttempt.objects.filter(**filters, attempt_time__gte=now - cool_off)
                  .order_by("-attempt_time").values_list("attempt_time", "failures_since_start"))
        total = 0
        for attempt_time, failures in recent:
            total += failures
            if total >= limit:
                locks["+".join(filters)] = max(0, math.ceil((attempt_time + cool_off - now).total_seconds()))
                break
    return locks


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts; try again in {minutes} {unit}."


def count_as_failed_sign_in(request: HttpRequest, username: str) -> None:
    """For a refusal shown as a wrong password although the password was right: counted
    like one, so an attacker cannot tell the two apart by when the lockout comes."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


class ThrottledSignInFormMixin:
    """For an ``AuthenticationForm``: while the username or the address is locked out,
    the form's error is the lockout message instead of "wrong password"."""

    request: HttpRequest | None
    cleaned_data: dict

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if self.request is None or not getattr(self.request, "axes_locked_out", False):
                raise
            locks = active_locks(self.request, self.cleaned_data.get("username"))
            raise ValidationError(lockout_message(max(locks.values(), default=0)),
                                  code="locked_out") from None


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page as the view rendered it (its form carries
    the message) with status 429; anything else gets the message as text."""
    username = (credentials or {}).get("username")
    seconds = max(active_locks(request, username).values(), default=0)
    if original_response is not None and original_response.status_code == 200:
        response = original_response
        response.status_code = 429
        response.reason_phrase = "Too Many Requests"
    else:
        response = HttpResponse(lockout_message(seconds), status=429, content_type="text/plain")
    response["Retry-After"] = str(max(1, seconds))
    return response


@receiver(user_locked_out)
def record_lockout(sender, request: HttpRequest | None, username: str | None, ip_address: str | None,
                   **kwargs) -> None:
    """One audit event when a lockout starts. axes also sends this signal for every
    attempt refused during a lockout; only the attempt that reached the limit was
    counted (``axes_failures_since_start`` is set on the counting path alone)."""
    if request is None or getattr(request, "axes_failures_since_start", None) is None:
        return
    user = User.objects.select_related("account").filter(username=username).first() if username else None
    # The user's own account when the username exists (its owners see the event), else
    # the account whose sign-in page was used.
    account = user.account if user is not None else getattr(request, "tenant", None)
    locks = active_locks(request, username)
    record(None, account, LOCKOUT_AUDIT_ACTION, ip_address, username=username or "",
           user_exists=user is not None, host=request.get_host(), path=request.path,
           locked=sorted(locks), failures=request.axes_failures_since_start,
           minutes=math.ceil(max(locks.values(), default=0) / 60))


@receiver(user_logged_in)
def clear_failures_of_user(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    AxesProxyHandler.reset_attempts(username=user.get_username())


@transaction.atomic
def do_clear_lockouts(actor: User, *, usernames: Iterable[str] = (), addresses: Iterable[str] = (),
                      ip: str | None = None) -> int:
    """Forget the failures of these usernames and of these addresses (the master's
    admins only: attempts are platform-wide); returns the number of attempt rows removed."""
    require_master_admin(actor)
    usernames, addresses = sorted(set(usernames) - {""}), sorted(set(addresses) - {""})
    removed = 0
    for username in usernames:
        removed += AxesProxyHandler.reset_attempts(username=username)
    for address in addresses:
        removed += AxesProxyHandler.reset_attempts(ip_address=address)
    record(actor, actor.account, "login.lockout_cleared", ip, usernames=usernames, addresses=addresses,
           removed=removed)
    return removed
