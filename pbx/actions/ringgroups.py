"""Ring groups and their members. A group may be saved without members (it is built
before it is filled); the portal's route explanation says a group has nobody to ring."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from pbx.actions.checks import RINGABLE_KINDS, target
from pbx.actions.common import changed
from pbx.actions.crud import CrudActions, authorize
from pbx.models import DestinationKind, MohGroup, RingGroup, RingGroupMember
from pbx.numbering import PICKUP_PREFIX, lock_plan, number_owner
from pbx.signals import IndexScope
from tenants.actions import record
from tenants.models import Account, User

RING_GROUP_FIELDS = ("name", "strategy", "ring_seconds", "repeat", "fallback",
                     "caller_id_name_prefix", "pickup_code", "moh_group")
MAX_MEMBERS = 100
_PICKUP = re.compile(rf"^{re.escape(PICKUP_PREFIX)}\d{{1,6}}$")

Member = tuple[str, int | None, bool]


class _RingGroups(CrudActions[RingGroup]):
    model = RingGroup
    audit_name = "ring_group"
    index = IndexScope.NOTHING
    fields = (*RING_GROUP_FIELDS, "number")
    kind = DestinationKind.RING_GROUP
    numbered = True
    identity = ("number", "name")
    row_fields = {"moh_group": MohGroup}

    def check(self, account: Account, group: RingGroup, fields: Mapping[str, Any]) -> None:
        target("fallback", group.fallback)
        if group.pickup_code:
            _check_pickup(group)

    def routes(self, group: RingGroup) -> dict[str, str]:
        return {"fallback": group.fallback}


_ring_groups = _RingGroups()


def _check_pickup(group: RingGroup) -> None:
    code = group.pickup_code
    if not _PICKUP.match(code):
        raise ValidationError({"pickup_code": [f"A pickup code is {PICKUP_PREFIX} and 1 to 6 digits."]})
    lock_plan()
    if RingGroup.objects.filter(pickup_code=code).exclude(pk=group.pk).exists():
        raise ValidationError({"pickup_code": [f"Another ring group already uses {code}."]})
    # *8 + an extension's number is directed pickup of that extension.
    digits = code[len(PICKUP_PREFIX):]
    owner = number_owner(digits, exclude=group)
    if owner is not None:
        raise ValidationError({"pickup_code": [f"{code} is the pickup code of {owner}."]})


def do_create_ring_group(account: Account, *, number: str, name: str, actor: User | None = None,
                         ip: str | None = None, **fields) -> RingGroup:
    return _ring_groups.create(account, number=number, name=name, actor=actor, ip=ip, **fields)


def do_update_ring_group(account: Account, group: RingGroup, *, actor: User | None = None,
                         ip: str | None = None, **fields) -> RingGroup:
    return _ring_groups.update(account, group, actor=actor, ip=ip, **fields)


def do_delete_ring_group(account: Account, group: RingGroup, *, actor: User | None = None,
                         ip: str | None = None) -> None:
    _ring_groups.delete(account, group, actor=actor, ip=ip)


@transaction.atomic
def do_set_ring_group_members(account: Account, group: RingGroup, members: Iterable[Member], *,
                              actor: User | None = None, ip: str | None = None) -> list[RingGroupMember]:
    """Replace the group's members with ``members``, rung in this order: (destination,
    ring_seconds or None for the group's, enabled)."""
    authorize(actor, account)
    members = list(members)
    with schema_context(account.schema_name):
        group = RingGroup.objects.select_for_update().get(pk=group.pk)
        rows, errors, seen = [], [], set()
        if len(members) > MAX_MEMBERS:
            errors.append(f"A ring group has at most {MAX_MEMBERS} members.")
        for position, (value, ring_seconds, enabled) in enumerate(members, start=1):
            try:
                destination = target("members", value, allowed=RINGABLE_KINDS)
                if destination is None:
                    raise ValidationError({"members": ["Choose an extension or an external number."]})
                if str(destination) in seen:
                    raise ValidationError({"members": ["This member is already in the group."]})
                seen.add(str(destination))
                member = RingGroupMember(group=group, position=position, destination=str(destination),
                                         ring_seconds=ring_seconds, enabled=bool(enabled))
                member.full_clean()
            except ValidationError as exc:
                errors += [f"Member {position}: {message}" for message in exc.messages]
                continue
            rows.append(member)
        if errors:
            raise ValidationError({"members": errors})
        group.members.all().delete()
        RingGroupMember.objects.bulk_create(rows)
    record(actor, account, "ring_group.members", ip=ip, number=group.number,
           members=[member.destination for member in rows])
    changed(account, index=IndexScope.NOTHING)
    return rows
