"""Auto attendants (IVR menus) and their keys. A key may lead to another menu (nested
menus) or to the same one (repeat the menu): a caller chose it, so it is no loop. The
exit destination is taken without anyone choosing, so it must not lead back."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import ROUTE_KINDS, prompt, refuse_if_used, refuse_loop, target
from pbx.actions.common import changed, only
from pbx.models import Destination, DestinationKind, Ivr, IvrOption
from pbx.models.ivr import validate_key
from pbx.numbering import refuse_taken
from tenants.actions import record
from tenants.models import Account, User

IVR_FIELDS = ("number", "greeting", "invalid_prompt", "timeout_prompt", "attendant_timeout",
              "digit_timeout", "max_attempts", "dial_by_extension", "exit_destination")
PROMPT_FIELDS = ("greeting", "invalid_prompt", "timeout_prompt")
# A key is a caller's choice: anything a call can reach.
KEY_KINDS = tuple(DestinationKind.values)


def _apply(ivr: Ivr, fields: dict) -> None:
    for name, value in fields.items():
        if name in PROMPT_FIELDS:
            value = prompt(value, name)
        elif name == "number":
            value = value or None
        setattr(ivr, name, value)


def _check(account: Account, ivr: Ivr, *, new_number: bool) -> None:
    if new_number and ivr.number:
        refuse_taken(ivr.number, exclude=ivr if ivr.pk else None, account=account)
    ivr.full_clean()
    target("exit_destination", ivr.exit_destination, allowed=ROUTE_KINDS, what="A menu's exit")
    if ivr.pk is not None:
        refuse_loop(Destination(DestinationKind.IVR, str(ivr.pk)), {"exit_destination": ivr.exit_destination})


@transaction.atomic
def do_create_ivr(account: Account, *, name: str, actor: User | None = None, **fields) -> Ivr:
    only(fields, IVR_FIELDS)
    with schema_context(account.schema_name):
        ivr = Ivr(name=name)
        _apply(ivr, fields)
        _check(account, ivr, new_number=True)
        ivr.save()
    record(actor, account, "ivr.create", name=name, number=ivr.number or "")
    changed(account)
    return ivr


@transaction.atomic
def do_update_ivr(account: Account, ivr: Ivr, *, actor: User | None = None, **fields) -> Ivr:
    only(fields, (*IVR_FIELDS, "name"))
    with schema_context(account.schema_name):
        ivr = Ivr.objects.select_for_update().get(pk=ivr.pk)
        old_number = ivr.number
        _apply(ivr, fields)
        _check(account, ivr, new_number=ivr.number != old_number)
        ivr.save()
    record(actor, account, "ivr.update", name=ivr.name, fields=sorted(fields))
    changed(account)
    return ivr


@transaction.atomic
def do_delete_ivr(account: Account, ivr: Ivr, *, actor: User | None = None) -> None:
    with schema_context(account.schema_name):
        ivr = Ivr.objects.select_for_update().get(pk=ivr.pk)
        # Its own keys (a "repeat the menu" key) go with it.
        refuse_if_used(ivr, account=account,
                       ignore=lambda holder: isinstance(holder, IvrOption) and holder.ivr_id == ivr.pk)
        name = ivr.name
        ivr.delete()
    record(actor, account, "ivr.delete", name=name)
    changed(account)


@transaction.atomic
def do_set_ivr_options(account: Account, ivr: Ivr, options: Mapping[str, str], *,
                       actor: User | None = None) -> list[IvrOption]:
    """Replace the menu's keys with ``options`` (key → destination); a key whose
    destination is empty is left out."""
    with schema_context(account.schema_name):
        ivr = Ivr.objects.select_for_update().get(pk=ivr.pk)
        rows, errors = [], []
        for key, value in sorted(options.items()):
            if not value:
                continue
            try:
                validate_key(key)
                destination = target("options", value, allowed=KEY_KINDS)
            except ValidationError as exc:
                errors += [f"Key {key}: {message}" for message in exc.messages]
                continue
            rows.append(IvrOption(ivr=ivr, key=key, destination=str(destination)))
        if errors:
            raise ValidationError({"options": errors})
        ivr.options.all().delete()
        IvrOption.objects.bulk_create(rows)
    record(actor, account, "ivr.options", name=ivr.name,
           options={option.key: option.destination for option in rows})
    changed(account)
    return rows
