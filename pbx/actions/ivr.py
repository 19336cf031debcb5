"""Auto attendants (IVR menus) and their keys. A key may lead to another menu (nested
menus) or to the same one (repeat the menu): a caller chose it, so it is no loop. The
exit destination is taken without anyone choosing, so it must not lead back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import ROUTE_KINDS, target
from pbx.actions.common import changed
from pbx.actions.crud import CrudActions, Verb, authorize
from pbx.models import DestinationKind, Ivr, IvrOption
from pbx.models.ivr import validate_key
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, User

IVR_FIELDS = ("number", "greeting", "invalid_prompt", "timeout_prompt", "attendant_timeout",
              "digit_timeout", "max_attempts", "dial_by_extension", "exit_destination")
PROMPT_FIELDS = ("greeting", "invalid_prompt", "timeout_prompt")
# A key is a caller's choice: anything a call can reach.
KEY_KINDS = tuple(DestinationKind.values)


class _Ivrs(CrudActions[Ivr]):
    model = Ivr
    audit_name = "ivr"
    index = IndexScope.NOTHING
    fields = (*IVR_FIELDS, "name")
    kind = DestinationKind.IVR
    numbered = True
    parts = ((IvrOption, "ivr"),)  # its own keys (a "repeat the menu" key) go with it
    prompt_fields = PROMPT_FIELDS

    def apply(self, ivr: Ivr, fields: dict[str, Any]) -> None:
        # A menu may have no number of its own (reached from a key or a route only).
        if "number" in fields:
            fields = {**fields, "number": fields["number"] or None}
        super().apply(ivr, fields)

    def check(self, account: Account, ivr: Ivr, fields: Mapping[str, Any]) -> None:
        target("exit_destination", ivr.exit_destination, allowed=ROUTE_KINDS, what="A menu's exit")

    def routes(self, ivr: Ivr) -> dict[str, str]:
        return {"exit_destination": ivr.exit_destination}

    def describe(self, ivr: Ivr, verb: Verb) -> dict[str, Any]:
        # A menu is known by its name; its number, optional, is recorded as it was made.
        return {"name": ivr.name, "number": ivr.number or ""} if verb == "create" else {"name": ivr.name}


_ivrs = _Ivrs()


def do_create_ivr(account: Account, *, name: str, actor: User | None = None, ip: str | None = None,
                  **fields) -> Ivr:
    return _ivrs.create(account, name=name, actor=actor, ip=ip, **fields)


def do_update_ivr(account: Account, ivr: Ivr, *, actor: User | None = None, ip: str | None = None,
                  **fields) -> Ivr:
    return _ivrs.update(account, ivr, actor=actor, ip=ip, **fields)


def do_delete_ivr(account: Account, ivr: Ivr, *, actor: User | None = None,
                  ip: str | None = None) -> None:
    _ivrs.delete(account, ivr, actor=actor, ip=ip)


@transaction.atomic
def do_set_ivr_options(account: Account, ivr: Ivr, options: Mapping[str, str], *,
                       actor: User | None = None, ip: str | None = None) -> list[IvrOption]:
    """Replace the menu's keys with ``options`` (key → destination); a key whose
    destination is empty is left out."""
    authorize(actor, account)
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
    record(actor, account, "ivr.options", ip=ip, name=ivr.name,
           options={option.key: option.destination for option in rows})
    changed(account, index=IndexScope.NOTHING)
    return rows
