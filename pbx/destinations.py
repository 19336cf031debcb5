"""The destination concept beside the models: what a stored destination points at, how
to name it to a person, who uses an object (so deleting it can be refused with the
list), and which automatic routes would loop. All functions run in the tenant's schema
(the caller's ``schema_context``), except where they take the account."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from pbx.models.destinations import (
    OBJECT_KINDS,
    Destination,
    DestinationField,
    DestinationKind,
)


def model_for(kind: str) -> type[models.Model]:
    return apps.get_model(OBJECT_KINDS[DestinationKind(kind)])


def target_of(destination: Destination) -> models.Model | None:
    """The row a destination points at, or None (external numbers and bare kinds, or a
    row that is gone)."""
    if destination.pk is None:
        return None
    return model_for(destination.kind).objects.filter(pk=destination.pk).first()


def validate_target(value: str, *, allowed: Iterable[str] | None = None) -> Destination | None:
    """Parse ``value`` and check that what it names exists in this schema (and, with
    ``allowed``, that its kind may be used here). Empty → None."""
    if not value:
        return None
    destination = Destination.parse(value)
    if allowed is not None and destination.kind not in set(allowed):
        labels = ", ".join(DestinationKind(kind).label.lower() for kind in allowed)
        raise ValidationError(f"Choose one of: {labels}.", code="kind_not_allowed")
    if destination.pk is not None and target_of(destination) is None:
        raise ValidationError(f"That {DestinationKind(destination.kind).label.lower()} no longer exists.",
                              code="missing_target")
    return destination


def label_of(obj: models.Model) -> str:
    number = getattr(obj, "number", None)
    kind = next(label for kind, label in DestinationKind.choices
                if OBJECT_KINDS.get(kind) == obj._meta.label)
    name = getattr(obj, "name", "")
    return " ".join(part for part in (kind, number or "", name) if part)


def describe(value: str) -> str:
    """A destination as a person reads it: "Ring group 2000 Sales"."""
    if not value:
        return "Nobody (hang up)"
    destination = Destination.parse(value)
    if destination.pk is not None:
        obj = target_of(destination)
        return label_of(obj) if obj is not None else f"{DestinationKind(destination.kind).label} (deleted)"
    if destination.kind == DestinationKind.EXTERNAL:
        return f"External number {destination.ref}"
    if destination.kind == DestinationKind.HANGUP and destination.ref:
        return f"Hang up ({destination.ref})"
    return DestinationKind(destination.kind).label


def choices(*, kinds: Iterable[str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a form's select: every object of every kind in this schema."""
    wanted = list(kinds) if kinds is not None else list(DestinationKind.values)
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for kind in wanted:
        label = DestinationKind(kind).label
        if kind in OBJECT_KINDS:
            rows = model_for(kind).objects.all()
            options = [(f"{kind}:{obj.pk}", label_of(obj)) for obj in rows]
            if options:
                groups.append((label, options))
        elif kind != DestinationKind.EXTERNAL:
            groups.append((label, [(kind, label)]))
    return groups


# --- who uses what ---------------------------------------------------------------------


def destination_fields() -> Iterator[tuple[type[models.Model], str]]:
    """Every (model, field name) of the tenant's PBX that holds a destination."""
    for model in apps.get_app_config("pbx").get_models():
        for field in model._meta.get_fields():
            if isinstance(field, DestinationField):
                yield model, field.name


@dataclass(frozen=True)
class Reference:
    holder: models.Model  # the object whose route names the target
    field: str

    def __str__(self) -> str:
        return f"{_holder_label(self.holder)} ({self.holder._meta.get_field(self.field).verbose_name})"


def _holder_label(obj: models.Model) -> str:
    if obj._meta.label in OBJECT_KINDS.values():
        return label_of(obj)
    for parent in ("ivr", "group", "schedule", "step"):
        owner = getattr(obj, parent, None)
        if owner is not None:
            suffix = f" key {obj.key}" if parent == "ivr" else ""
            return (_holder_label(owner) if parent != "step"
                    else f"Follow-me of {owner.follow_me.extension}") + suffix
    if obj._meta.label == "pbx.FollowMe":
        return f"Follow-me of {obj.extension}"
    return str(obj)


def _nothing(holder: models.Model) -> bool:
    return False


def references(target: models.Model, *, account=None,
               ignore: Callable[[models.Model], bool] = _nothing) -> list[str]:
    """Everything whose route names ``target`` (this schema), and, given the account,
    its phone numbers routed there. Deleting ``target`` is refused while this is not
    empty. Holders ``ignore`` accepts (those going away with ``target``: an extension's
    own forwards, an IVR's "repeat the menu" key) do not count."""
    kind = next(kind for kind, label in OBJECT_KINDS.items() if label == target._meta.label)
    value = f"{kind}:{target.pk}"
    found = [str(Reference(holder, name))
             for model, name in destination_fields()
             for holder in model.objects.filter(**{name: value})
             if holder != target and not ignore(holder)]
    if account is not None:
        from tenants.models import PhoneNumber

        found += [f"Phone number {e164}" for e164 in
                  PhoneNumber.objects.filter(account=account, route=value).values_list("e164", flat=True)]
    return found


def refuse_if_used(target: models.Model, *, account=None,
                   ignore: Callable[[models.Model], bool] = _nothing) -> None:
    used_by = references(target, account=account, ignore=ignore)
    if used_by:
        # The list rides along as a parameter too (the API shows it as a list, used_by), so
        # a % in a name must not read as a placeholder.
        message = f"{label_of(target)} is still used by: {'; '.join(used_by)}. Change those routes first."
        raise ValidationError(message.replace("%", "%%"), code="in_use", params={"used_by": used_by})


# --- loops -----------------------------------------------------------------------------


def automatic_routes(node: Destination) -> list[Destination]:
    """Where a call at ``node`` may go on without anyone choosing (forwards, fallbacks,
    exits, schedule routes). Keys a caller presses are choices, not loops."""
    obj = target_of(node)
    if obj is None:
        return []
    values: list[str] = []
    kind = node.kind
    if kind == DestinationKind.EXTENSION:
        values = [getattr(obj, f"forward_{name}_to") for name in obj.FORWARDS
                  if getattr(obj, f"forward_{name}")]
        follow_me = getattr(obj, "follow_me", None) if _has_follow_me(obj) else None
        if follow_me is not None and follow_me.enabled:
            values.append(follow_me.fallback)
    elif kind in (DestinationKind.RING_GROUP, DestinationKind.QUEUE):
        # A queue sends its callers there by itself when their wait is over.
        values = [obj.fallback]
    elif kind == DestinationKind.IVR:
        values = [obj.exit_destination]
    elif kind == DestinationKind.SCHEDULE:
        values = [obj.open_destination, obj.closed_destination, obj.default_destination,
                  *obj.events.values_list("destination", flat=True)]
    return [Destination.parse(value) for value in values if value]


def _has_follow_me(extension: models.Model) -> bool:
    try:
        extension.follow_me  # noqa: B018  (a missing reverse one-to-one raises)
    except models.ObjectDoesNotExist:
        return False
    return True


def find_loop(start: Destination, *, pending: dict[Destination, list[Destination]] | None = None
              ) -> list[Destination] | None:
    """A cycle of automatic routes through ``start``, or None. ``pending`` overrides the
    routes of objects being saved (checked before the write)."""
    pending = pending or {}

    def routes(node: Destination) -> list[Destination]:
        return pending[node] if node in pending else automatic_routes(node)

    path: list[Destination] = [start]
    on_path = {start}
    done: set[Destination] = set()

    def visit(node: Destination) -> list[Destination] | None:
        for nxt in routes(node):
            if nxt == start:
                return [*path, start]
            if nxt in on_path or nxt in done or nxt.pk is None:
                continue
            path.append(nxt)
            on_path.add(nxt)
            cycle = visit(nxt)
            if cycle:
                return cycle
            on_path.discard(path.pop())
            done.add(nxt)
        return None

    return visit(start)
