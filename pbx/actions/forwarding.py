"""An extension's own routing (forwards, do not disturb, emergency callback number), checked
by the extension actions; and what goes away with an extension when it is deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import models

from pbx.actions.checks import refuse_loop, target
from pbx.models import (
    Destination,
    DestinationKind,
    Extension,
    FollowMe,
    FollowMeStep,
    FollowMeTarget,
    VoicemailBox,
)
from pbx.permissions import forward_number
from tenants.models import Account, PhoneNumber

K = DestinationKind
FORWARD_KINDS = (K.EXTENSION, K.VOICEMAIL, K.RING_GROUP, K.IVR, K.EXTERNAL, K.CONFERENCE,
                 K.SCHEDULE, K.QUEUE, K.HANGUP)
FORWARD_FIELDS = tuple(f for name in Extension.FORWARDS for f in (f"forward_{name}", f"forward_{name}_to"))
ROUTING_FIELDS = (*FORWARD_FIELDS, "do_not_disturb", "emergency_address", "emergency_callback_number")
# Changing these re-checks the extension's outside forwards and follow-me numbers.
PERMISSION_FIELDS = ("call_permission", "allow_premium_rate")
_WHEN = {"all": "all calls", "busy": "calls while busy", "no_answer": "unanswered calls",
         "unregistered": "calls while no phone is registered"}


def extension_routes(extension: Extension, follow_me: FollowMe | None) -> dict[str, str]:
    """The extension's automatic routes by field: its enabled forwards and, when enabled,
    the fallback of ``follow_me`` (its stored follow-me, or the one being saved)."""
    routes = {f"forward_{name}_to": getattr(extension, f"forward_{name}_to")
              for name in Extension.FORWARDS if getattr(extension, f"forward_{name}")}
    if follow_me is not None and follow_me.enabled and follow_me.fallback:
        routes["fallback"] = follow_me.fallback
    return routes


def check_extension_routing(account: Account, extension: Extension, changed: Iterable[str]) -> None:
    """Forwards that are on have a destination; destinations exist in this schema and are
    kinds a forward may use (not the extension itself); no forward closes a loop; the
    emergency callback number is one of the account's numbers. Run after ``full_clean``
    (syntax) and once the extension has its primary key."""
    changed = set(changed)
    itself = Destination(K.EXTENSION, str(extension.pk))
    errors: dict[str, list[str]] = {}
    for name in Extension.FORWARDS:
        on, field = getattr(extension, f"forward_{name}"), f"forward_{name}_to"
        value = getattr(extension, field)
        if on and not value:
            errors[field] = [f"Choose where {_WHEN[name]} go, or switch this forward off."]
        elif value and (on or field in changed):
            try:
                destination = target(field, value, allowed=FORWARD_KINDS, not_to=itself, what="An extension")
            except ValidationError as exc:
                errors.update(exc.message_dict)
                continue
            # An outside number is called with the extension's own permission
            # (pbx.routing), so one it may not call is refused now, not at call time.
            if destination.kind == K.EXTERNAL and on and changed & {
                    field, f"forward_{name}", *PERMISSION_FIELDS}:
                try:
                    forward_number(account, extension, destination.ref)
                except ValidationError as exc:
                    errors[field] = exc.messages
    number = extension.emergency_callback_number
    if number and not PhoneNumber.objects.filter(account=account, e164=number).exists():
        errors["emergency_callback_number"] = [
            f"{number} is not a number of {account.name}: choose one of the account's numbers."]
    caller_id = extension.outbound_caller_id_number
    if (caller_id and "outbound_caller_id_number" in changed
            and not PhoneNumber.objects.filter(account=account, e164=caller_id).exists()):
        # Presenting a number the tenant does not hold is caller-ID spoofing.
        errors["outbound_caller_id_number"] = [
            f"{caller_id} is not a number of {account.name}: choose one of the account's numbers."]
    if errors:
        raise ValidationError(errors)
    refuse_loop(itself, extension_routes(extension, FollowMe.objects.filter(extension=extension).first()))


def goes_with(extension: Extension) -> Callable[[models.Model], bool]:
    """Whether a route holder is deleted together with ``extension`` (its own forwards and
    follow-me), so its routes do not keep the extension alive."""
    def owned(holder: models.Model) -> bool:
        if isinstance(holder, Extension):
            return holder.pk == extension.pk
        if isinstance(holder, FollowMe):
            return holder.extension_id == extension.pk
        if isinstance(holder, FollowMeStep):
            return holder.follow_me.extension_id == extension.pk
        if isinstance(holder, FollowMeTarget):
            return holder.step.follow_me.extension_id == extension.pk
        return False
    return owned


def renumber_box(extension: Extension) -> None:
    """An extension's box has the extension's number (FreeSWITCH finds boxes by number and
    people log in to theirs with it, *98), so it follows a renumbering; refused when a
    standalone box already has the new number."""
    if VoicemailBox.objects.filter(number=extension.number).exclude(extension=extension).exists():
        raise ValidationError({"number": [f"{extension.number} is a voicemail box's number."]})
    box = VoicemailBox.objects.filter(extension=extension).first()
    if box is None:
        return
    box.number = extension.number
    try:
        box.full_clean()
    except ValidationError as exc:
        raise ValidationError({"number": [f"Voicemail box: {m}" for m in exc.messages]}) from exc
    box.save(update_fields=["number", "updated_at"])
