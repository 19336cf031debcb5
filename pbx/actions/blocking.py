"""Call blocks: a number, a prefix or anonymous callers, blocked incoming, outgoing or
both (applied before any other routing, see pbx.blocking)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import schema_context

from pbx.actions.common import changed, only
from pbx.blocking import normalize_pattern
from pbx.models import CallBlock
from tenants.actions import record
from tenants.models import Account, User

BLOCK_FIELDS = ("pattern", "anonymous", "direction", "comment")


def _check(account: Account, block: CallBlock) -> None:
    if block.anonymous:
        if block.pattern:
            raise ValidationError({"pattern": ["Leave the number empty to block callers who withhold "
                                               "their number."]})
    else:
        try:
            block.pattern = normalize_pattern(block.pattern, account.country)
        except ValidationError as exc:
            raise ValidationError({"pattern": exc.messages}) from exc
    block.full_clean()
    with connection.cursor() as cursor:
        # Two people adding the same number at once must not both succeed.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:callblock"])
    same = {"anonymous": True} if block.anonymous else {"anonymous": False, "pattern": block.pattern}
    twin = CallBlock.objects.filter(**same).exclude(pk=block.pk).first()
    if twin is not None:
        field = "anonymous" if block.anonymous else "pattern"
        raise ValidationError({field: [f"{twin} is already blocked ({twin.get_direction_display().lower()}); "
                                       "change that block instead."]})


@transaction.atomic
def do_add_call_block(account: Account, *, pattern: str = "", anonymous: bool = False,
                      direction: str = "incoming", comment: str = "", actor: User | None = None) -> CallBlock:
    with schema_context(account.schema_name):
        block = CallBlock(pattern=pattern or "", anonymous=bool(anonymous), direction=direction,
                          comment=comment)
        _check(account, block)
        block.save()
    record(actor, account, "call_block.create", pattern=block.pattern, anonymous=block.anonymous,
           direction=block.direction)
    changed(account)
    return block


@transaction.atomic
def do_update_call_block(account: Account, block: CallBlock, *, actor: User | None = None,
                         **fields) -> CallBlock:
    only(fields, BLOCK_FIELDS)
    with schema_context(account.schema_name):
        block = CallBlock.objects.select_for_update().get(pk=block.pk)
        for name, value in fields.items():
            setattr(block, name, value)
        if fields.get("anonymous") and "pattern" not in fields:
            block.pattern = ""
        _check(account, block)
        block.save()
    record(actor, account, "call_block.update", pattern=block.pattern, anonymous=block.anonymous,
           fields=sorted(fields))
    changed(account)
    return block


@transaction.atomic
def do_remove_call_block(account: Account, block: CallBlock, *, actor: User | None = None) -> None:
    with schema_context(account.schema_name):
        block = CallBlock.objects.get(pk=block.pk)
        pattern, anonymous = block.pattern, block.anonymous
        block.delete()
    record(actor, account, "call_block.delete", pattern=pattern, anonymous=anonymous)
    changed(account)
