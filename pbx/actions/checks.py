"""Validation steps the routing actions share, each raising a ValidationError that names
the form field at fault. Run inside the tenant's ``schema_context``: every lookup is
by primary key in that schema, so an id taken from another tenant finds nothing there
(or that tenant's own row), never the other tenant's object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import models

from pbx.destinations import describe, find_loop, refuse_if_used, validate_target
from pbx.models import Destination, DestinationKind, MediaStatus, Prompt

K = DestinationKind
__all__ = ["RINGABLE_KINDS", "ROUTE_KINDS", "prompt", "refuse_if_used", "refuse_loop", "row", "target"]

# Where a call may go on by itself (a forward, a fallback, an exit).
ROUTE_KINDS = (K.EXTENSION, K.VOICEMAIL, K.RING_GROUP, K.IVR, K.SCHEDULE, K.CONFERENCE,
               K.QUEUE, K.EXTERNAL, K.DIRECTORY, K.HANGUP)
# Somewhere a person is rung (ring group members, follow-me targets).
RINGABLE_KINDS = (K.EXTENSION, K.EXTERNAL)


def target(field: str, value: str, *, allowed: Iterable[str] = ROUTE_KINDS,
           not_to: Destination | None = None, what: str = "This") -> Destination | None:
    """The destination ``value`` (None when empty), checked to exist in this schema."""
    try:
        destination = validate_target(value, allowed=list(allowed))
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    if destination is not None and destination == not_to:
        raise ValidationError({field: [f"{what} cannot send calls to itself."]})
    return destination


def row(model: type[models.Model], value: models.Model | int | str | None, field: str
        ) -> models.Model | None:
    """The row of this schema that ``value`` (an instance or a primary key) names."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    found = model.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise ValidationError({field: [f"That {model._meta.verbose_name} does not exist."]})
    return found


def prompt(value: Prompt | int | str | None, field: str) -> Prompt | None:
    """A prompt of this schema FreeSWITCH can play (its converted copies exist)."""
    found = row(Prompt, value, field)
    if found is not None and found.status == MediaStatus.FAILED:
        raise ValidationError({field: [f"The recording “{found.name}” could not be converted; "
                                       "upload it again."]})
    if found is not None and found.status != MediaStatus.READY:
        raise ValidationError({field: [f"The recording “{found.name}” is not ready to play yet."]})
    return found


def refuse_loop(start: Destination, routes: Mapping[str, str]) -> None:
    """Refuse saving ``start`` with these automatic routes (field → destination) when
    they close a loop; the error names the cycle and sits on the field that starts it."""
    pending = {start: [Destination.parse(value) for value in routes.values() if value]}
    cycle = find_loop(start, pending=pending)
    if not cycle:
        return
    field = next(name for name, value in routes.items() if value == str(cycle[1]))
    names = " → ".join(describe(str(node)) for node in cycle)
    raise ValidationError({field: [f"This would send calls round in a loop: {names}."]})
