"""What the forwarding and do-not-disturb feature codes (pbx.routing: *71 / *72 / *73
+ a number, *071 / *072 / *073, *74 / *074) change on the calling extension.

A code is a shortcut for the admin's form, so the write is ``do_update_extension``
itself: the same validation, loop refusal, audit event and cache invalidation. Only the
number has to be read first: an extension or another internal number of this tenant
(its destination), else an outside number in E.164 as the account's country reads it.
An outside number must be one the calling extension may dial itself: a phone limited
to internal calls must not buy itself long distance by forwarding to it and calling
itself (the admin, who sets permissions, has no such limit).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.utils import schema_context

from pbx.actions.extensions import do_update_extension
from pbx.actions.forwarding import check_extension_routing
from pbx.destinations import describe
from pbx.models import Destination, DestinationKind, Extension
from pbx.models.destinations import OBJECT_KINDS
from pbx.numbering import PLAN_MODELS
from pbx.permissions import forward_number
from pbx.routing import FORWARD_ON_CODES, SWITCH_CODES
from tenants.models import Account

FORWARDS = frozenset(FORWARD_ON_CODES.values())  # "all", "busy", "no_answer"
ACTIONS = FORWARDS | frozenset(SWITCH_CODES.values())


def forward_target(account: Account, extension: Extension, name: str, number: str) -> str:
    """The destination (as stored) that ``number``, dialed after a forward code of
    ``extension``, names. Errors sit on the forward's field (``forward_<name>_to``)."""
    field = f"forward_{name}_to"
    if not (number.isdigit() and number.isascii()):
        raise ValidationError({field: ["Dial the number to forward to after the code."]})
    with schema_context(account.schema_name):
        for model in PLAN_MODELS:
            found = model.objects.filter(number=number).first()
            if found is not None:
                return str(Destination(_kind_of(model), str(found.pk)))
    try:
        dialed = forward_number(account, extension, number)
    except ValidationError as exc:
        if exc.code == "uncallable":
            raise ValidationError({field: [f"{number} is neither a number of {account.name} "
                                           f"nor a phone number that can be called: {exc.messages[0]}"]}
                                  ) from exc
        raise ValidationError({field: exc.messages}) from exc
    return str(Destination(DestinationKind.EXTERNAL, dialed.number))


def _kind_of(model: type[models.Model]) -> str:
    return next(kind for kind, label in OBJECT_KINDS.items() if label == model._meta.label)


def feature_fields(account: Account, extension: Extension, action: str, number: str = "") -> dict:
    """The extension fields ``action`` writes. A forward switched off keeps its
    destination (the next *7x without a number cannot reuse it: the app asks)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown feature code action {action!r}")
    if action in FORWARDS:
        return {f"forward_{action}": True,
                f"forward_{action}_to": forward_target(account, extension, action, number)}
    if action.startswith("dnd_"):
        return {"do_not_disturb": action == "dnd_on"}
    return {f"forward_{action.removesuffix('_off')}": False}


def do_feature_code(account: Account, extension: Extension, action: str, number: str = "") -> Extension:
    """Apply a code dialed by ``extension`` (its device authenticated): the admin's
    action with the admin's checks. Raises ValidationError and changes nothing when
    the number names nothing a forward may go to or the forward would loop."""
    return do_update_extension(account, extension, **feature_fields(account, extension, action, number))


def check_feature_code(account: Account, extension: Extension, action: str, number: str = "") -> dict:
    """What :func:`do_feature_code` would write, checked as ``do_update_extension``
    checks it (``full_clean``, then the routing checks with the loop refusal), without
    writing: the explainer's answer. Raises the same ValidationError."""
    fields = feature_fields(account, extension, action, number)
    with schema_context(account.schema_name):
        changed = Extension.objects.get(pk=extension.pk)
        for name, value in fields.items():
            setattr(changed, name, value)
        changed.full_clean()
        check_extension_routing(account, changed, fields)
    return fields


def describe_target(account: Account, value: str) -> str:
    """A stored forward as a person reads it ("Extension 1002 Alice")."""
    with schema_context(account.schema_name):
        return describe(value)
