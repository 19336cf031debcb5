"""Follow-me (find me): an extension's calls ring a list of steps, each ringing its
targets at once, then go to a fallback (empty: the extension's voicemail). Ringing the
extension's own phones in a step is the usual "desk phone first"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import RINGABLE_KINDS, ROUTE_KINDS, refuse_loop, row, target
from pbx.actions.common import changed
from pbx.actions.crud import authorize
from pbx.actions.forwarding import extension_routes
from pbx.models import (
    Destination,
    DestinationKind,
    Extension,
    FollowMe,
    FollowMeStep,
    FollowMeTarget,
    MohGroup,
    Schedule,
)
from pbx.permissions import forward_number
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, User

MAX_STEPS = 10
MAX_TARGETS = 5


def _steps(account: Account, follow_me: FollowMe, steps: list[Mapping[str, Any]]
           ) -> list[tuple[FollowMeStep, list[FollowMeTarget]]]:
    errors: list[str] = []
    built: list[tuple[FollowMeStep, list[FollowMeTarget]]] = []
    if len(steps) > MAX_STEPS:
        errors.append(f"Follow-me has at most {MAX_STEPS} steps.")
    for position, spec in enumerate(steps, start=1):
        unknown = sorted(set(spec) - {"ring_seconds", "confirm", "targets"})
        if unknown:
            errors.append(f"Step {position}: unknown setting {', '.join(unknown)}.")
            continue
        step = FollowMeStep(follow_me=follow_me, position=position,
                            ring_seconds=spec.get("ring_seconds", 20), confirm=spec.get("confirm", True))
        try:
            step.full_clean(exclude=["follow_me"])
        except ValidationError as exc:
            errors += [f"Step {position}: {message}" for message in exc.messages]
        values = [value for value in spec.get("targets", []) if value]
        if not values:
            errors.append(f"Step {position}: choose at least one extension or number to ring.")
        elif len(values) > MAX_TARGETS:
            errors.append(f"Step {position}: at most {MAX_TARGETS} targets ring at once.")
        targets, seen = [], set()
        for number, value in enumerate(values, start=1):
            where = f"Step {position}, target {number}"
            try:
                destination = target("steps", value, allowed=RINGABLE_KINDS)
            except ValidationError as exc:
                errors += [f"{where}: {message}" for message in exc.messages]
                continue
            if destination.kind == DestinationKind.EXTERNAL:
                # Rung with the extension's own permission (pbx.followme), like a forward.
                try:
                    forward_number(account, follow_me.extension, destination.ref)
                except ValidationError as exc:
                    errors += [f"{where}: {message}" for message in exc.messages]
                    continue
            if str(destination) in seen:
                errors.append(f"{where}: already rung in this step.")
            seen.add(str(destination))
            targets.append(FollowMeTarget(destination=str(destination)))
        built.append((step, targets))
    if errors:
        raise ValidationError({"steps": errors})
    return built


@transaction.atomic
def do_set_follow_me(
    account: Account, extension: Extension, *, enabled: bool = True, record_name: bool = False,
    offer_voicemail: bool = False, ignore_busy: bool = False,
    active_hours: Schedule | int | None = None, moh_group: MohGroup | int | None = None,
    fallback: str = "", steps: Iterable[Mapping[str, Any]] = (), actor: User | None = None,
    ip: str | None = None,
) -> FollowMe:
    """Set the extension's follow-me, replacing all its steps. ``steps``: in order, each
    ``{"ring_seconds": 20, "confirm": True, "targets": ["extension:5", "external:+1…"]}``.
    The extension's own end user may set it too (My phone)."""
    authorize(actor, account, extension_pk=extension.pk)
    steps = list(steps)
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        follow_me = FollowMe.objects.filter(extension=extension).first() or FollowMe(extension=extension)
        follow_me.enabled, follow_me.record_name = bool(enabled), bool(record_name)
        follow_me.offer_voicemail, follow_me.ignore_busy = bool(offer_voicemail), bool(ignore_busy)
        follow_me.active_hours = row(Schedule, active_hours, "active_hours")
        follow_me.moh_group = row(MohGroup, moh_group, "moh_group")
        follow_me.fallback = fallback or ""
        follow_me.full_clean()
        itself = Destination(DestinationKind.EXTENSION, str(extension.pk))
        target("fallback", follow_me.fallback, allowed=ROUTE_KINDS, not_to=itself,
               what="Follow-me of an extension")
        built = _steps(account, follow_me, steps)
        if enabled and not built:
            raise ValidationError({"steps": ["Add at least one step, or switch follow-me off."]})
        refuse_loop(itself, extension_routes(extension, follow_me))
        follow_me.save()
        follow_me.steps.all().delete()
        for step, targets in built:
            step.follow_me = follow_me
            step.save()
            for item in targets:
                item.step = step
            FollowMeTarget.objects.bulk_create(targets)
    record(actor, account, "follow_me.set", ip, extension=extension.number, enabled=follow_me.enabled,
           steps=[[item.destination for item in targets] for _, targets in built],
           fallback=follow_me.fallback)
    changed(account, index=IndexScope.extension(extension.pk))
    return follow_me


@transaction.atomic
def do_delete_follow_me(account: Account, extension: Extension, *, actor: User | None = None,
                        ip: str | None = None) -> None:
    """Remove the extension's follow-me with its steps: its calls ring its own phones
    again. FollowMe.DoesNotExist when it has none."""
    authorize(actor, account)
    with schema_context(account.schema_name):
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        FollowMe.objects.get(extension=extension).delete()
    record(actor, account, "follow_me.delete", ip, extension=extension.number)
    changed(account, index=IndexScope.extension(extension.pk))
