"""Call blocks: a number, a prefix or anonymous callers, blocked incoming, outgoing or
both (applied before any other routing, see pbx.blocking), for the whole account or for
one extension (``extension``). An extension's end user ("My phone") may add, change and
remove that extension's blocks and no others (``authorize`` through ``owner_field``);
admins manage every block; read-only roles none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from pbx.actions.crud import CrudActions, Verb
from pbx.blocking import normalize_pattern
from pbx.models import CallBlock, Extension
from pbx.signals import IndexScope
from tenants.models import Account, User

BLOCK_FIELDS = ("pattern", "anonymous", "direction", "comment", "extension")


class _CallBlocks(CrudActions[CallBlock]):
    model = CallBlock
    audit_name = "call_block"
    index = IndexScope.BLOCKS  # the account's facts only
    fields = BLOCK_FIELDS
    identity = ("pattern", "anonymous")
    row_fields = {"extension": Extension}
    owner_field = "extension"

    def apply(self, block: CallBlock, fields: dict[str, Any]) -> None:
        super().apply(block, fields)
        if fields.get("anonymous") and "pattern" not in fields:
            block.pattern = ""

    def prepare(self, account: Account, block: CallBlock) -> None:
        if block.extension_id is not None:
            # Read while in the tenant's schema: the audit event names it afterwards.
            block.extension = Extension.objects.get(pk=block.extension_id)
        if block.anonymous:
            if block.pattern:
                raise ValidationError({"pattern": ["Leave the number empty to block callers who withhold "
                                                   "their number."]})
        else:
            try:
                block.pattern = normalize_pattern(block.pattern, account.country)
            except ValidationError as exc:
                raise ValidationError({"pattern": exc.messages}) from exc

    def check(self, account: Account, block: CallBlock, fields: Mapping[str, Any]) -> None:
        with connection.cursor() as cursor:
            # Two people adding the same number at once must not both succeed.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           [f"{connection.schema_name}:callblock"])
        # One block per number (or anonymous) in each scope: the account's, or one
        # extension's; the same number may be blocked in both.
        same = {"anonymous": True} if block.anonymous else {"anonymous": False, "pattern": block.pattern}
        twin = CallBlock.objects.filter(**same, extension=block.extension_id).exclude(pk=block.pk).first()
        if twin is not None:
            field = "anonymous" if block.anonymous else "pattern"
            how = twin.get_direction_display().lower()
            raise ValidationError({field: [f"{twin} is already blocked ({how}); change that block instead."]})

    def describe(self, block: CallBlock, verb: Verb) -> dict[str, Any]:
        details: dict[str, Any] = {"pattern": block.pattern, "anonymous": block.anonymous}
        if block.extension_id is not None:
            details["extension"] = block.extension.number
        return {**details, "direction": block.direction} if verb == "create" else details


_blocks = _CallBlocks()


def do_add_call_block(account: Account, *, pattern: str = "", anonymous: bool = False,
                      direction: str = "incoming", comment: str = "",
                      extension: Extension | int | None = None, actor: User | None = None,
                      ip: str | None = None) -> CallBlock:
    """Block ``pattern`` (or anonymous callers) for the whole account, or with
    ``extension`` for that extension only."""
    return _blocks.create(account, pattern=pattern or "", anonymous=bool(anonymous), direction=direction,
                          comment=comment, extension=extension, actor=actor, ip=ip)


def do_update_call_block(account: Account, block: CallBlock, *, actor: User | None = None,
                         ip: str | None = None, **fields) -> CallBlock:
    return _blocks.update(account, block, actor=actor, ip=ip, **fields)


def do_remove_call_block(account: Account, block: CallBlock, *, actor: User | None = None,
                         ip: str | None = None) -> None:
    _blocks.delete(account, block, actor=actor, ip=ip)
