"""The tenant's numbering plan: extensions, ring groups, conference rooms, IVRs and call
queues are dialed the same way, so one number reaches one of them. Voicemail boxes are
not in the plan: callers reach them by a route or by logging in (*98), never by dialing
the box number. A ring group's pickup code (*8 + digits) also holds its digits, because
*8 + an extension number is directed pickup of that extension.

Functions run in the caller's ``schema_context``."""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection, models

from pbx.destinations import label_of
from pbx.models import CallQueue, ConferenceRoom, Extension, Ivr, RingGroup

PICKUP_PREFIX = "*8"
PLAN_MODELS: tuple[type[models.Model], ...] = (Extension, RingGroup, ConferenceRoom, Ivr, CallQueue)


def _owners(number: str) -> Iterator[tuple[models.Model, str]]:
    for model in PLAN_MODELS:
        for obj in model.objects.filter(number=number):
            yield obj, label_of(obj)
    for group in RingGroup.objects.filter(pickup_code=PICKUP_PREFIX + number):
        yield group, f"the pickup code {group.pickup_code} of {label_of(group)}"


def number_owner(number: str, *, exclude: models.Model | None = None) -> str | None:
    """What ``number`` reaches in this tenant ("Ring group 2000 Sales"), or None."""
    return next((label for obj, label in _owners(number) if not _same(obj, exclude)), None)


def _same(obj: models.Model, other: models.Model | None) -> bool:
    return other is not None and type(obj) is type(other) and obj.pk == other.pk


def lock_plan() -> None:
    """Serialize numbering-plan writes of this tenant until the transaction ends: the
    check-then-insert spans several tables, which no unique constraint covers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:numbering"])


def refuse_taken(number: str, *, exclude: models.Model | None = None, account=None) -> None:
    """Refuse ``number`` for a new or renumbered object (``exclude``: the object itself)
    when something else of the plan holds it, when it is a feature code, or (given the
    account) when it is an emergency number of the account's country. Errors name the
    ``number`` field. Call inside the write's transaction."""
    if not number:
        return
    if number.startswith("*"):
        raise ValidationError({"number": ["Numbers starting with * are feature codes."]})
    if account is not None and phonenumbers.is_emergency_number(number, account.country):
        raise ValidationError({"number": [f"{number} is an emergency number in {account.country}."]})
    lock_plan()
    owner = number_owner(number, exclude=exclude)
    if owner is not None:
        raise ValidationError({"number": [ValidationError(f"{number} is already used by {owner}.",
                                                          code="taken")]})
