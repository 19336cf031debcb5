"""Who may write the objects whose create / update / delete share pbx.actions.crud (ring
groups, auto attendants, conference rooms, call queues, schedules, call blocks): an
admin of the account or above it may, with the audit event naming them and their
address; read-only staff and other tenants' staff are refused inside the action, and
nothing is written, recorded or announced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import models
from django_tenants.utils import schema_context

from pbx.actions import (
    Agent,
    do_add_call_block,
    do_create_conference_room,
    do_create_ivr,
    do_create_queue,
    do_create_ring_group,
    do_create_schedule,
    do_delete_conference_room,
    do_delete_ivr,
    do_delete_queue,
    do_delete_ring_group,
    do_delete_schedule,
    do_remove_call_block,
    do_set_ivr_options,
    do_set_queue_agents,
    do_set_ring_group_members,
    do_update_call_block,
    do_update_conference_room,
    do_update_ivr,
    do_update_queue,
    do_update_ring_group,
    do_update_schedule,
)
from pbx.models import (
    CallBlock,
    CallQueue,
    ConferenceRoom,
    Ivr,
    IvrOption,
    QueueAgent,
    RingGroup,
    RingGroupMember,
    Schedule,
)
from pbx.signals import callcenter_changed, tenant_config_changed
from tenants.actions import do_create_staff_user
from tenants.models import Account, AuditEvent, Role, User
from tenants.scoping import NotInSubtree
from tests.conftest import PASSWORD
from tests.pbx.routing_helpers import exists, extension, last_event, ref, reload


@dataclass(frozen=True)
class Kind:
    """One kind of object written through pbx.actions.crud."""
    name: str
    model: type[models.Model]
    audit_name: str
    create: Callable[..., Any]
    create_data: dict[str, Any]
    update: Callable[..., Any]
    update_data: dict[str, Any]
    delete: Callable[..., Any]
    # A second object's data, free beside the first.
    another_data: dict[str, Any]
    # The field update_data changes, to see it unchanged after a refusal.
    changed_field: str = "name"

    def make(self, account: Account, **kw: Any) -> models.Model:
        return self.create(account, **self.create_data, **kw)

    def __str__(self) -> str:
        return self.name


KINDS = [
    Kind("ring group", RingGroup, "ring_group", do_create_ring_group, {"number": "2000", "name": "Sales"},
         do_update_ring_group, {"name": "Renamed"}, do_delete_ring_group,
         another_data={"number": "2001", "name": "Support"}),
    Kind("auto attendant", Ivr, "ivr", do_create_ivr, {"name": "Main", "number": "9000"},
         do_update_ivr, {"name": "Renamed"}, do_delete_ivr, another_data={"name": "Night", "number": "9001"}),
    Kind("conference room", ConferenceRoom, "conference", do_create_conference_room,
         {"number": "3000", "name": "Board"}, do_update_conference_room, {"name": "Renamed"},
         do_delete_conference_room, another_data={"number": "3001", "name": "Team"}),
    Kind("call queue", CallQueue, "queue", do_create_queue, {"number": "5000", "name": "Sales"},
         do_update_queue, {"name": "Renamed"}, do_delete_queue,
         another_data={"number": "5001", "name": "Help"}),
    Kind("schedule", Schedule, "schedule", do_create_schedule,
         {"name": "Office", "open_destination": "hangup"}, do_update_schedule, {"name": "Renamed"},
         do_delete_schedule,
         another_data={"name": "Shop", "open_destination": "hangup"}),
    Kind("call block", CallBlock, "call_block", do_add_call_block, {"pattern": "+1900*"},
         do_update_call_block, {"comment": "Premium rate"}, do_remove_call_block,
         another_data={"pattern": "+1800*"}, changed_field="comment"),
]
REFUSED = [("c1_readonly", PermissionDenied), ("r1_readonly", PermissionDenied),
           ("r1_activation", PermissionDenied), ("c2_admin", NotInSubtree)]


def staff_of_c1(tree, username: str) -> User:
    if username == "c1_readonly":
        return do_create_staff_user(tree.user("r1_admin"), account=tree.c1, username="c1_readonly",
                                    password=PASSWORD, role=Role.READ_ONLY)
    return tree.user(username)


def count(account: Account, model: type[models.Model]) -> int:
    with schema_context(account.schema_name):
        return model.objects.count()


@contextmanager
def nothing_written(account: Account) -> Iterator[None]:
    """No audit event for ``account`` and no change announced while inside."""
    announced: list[str] = []

    def heard(sender, **kwargs) -> None:
        announced.append(kwargs.get("account", account).name)

    events = AuditEvent.objects.filter(account=account).count()
    tenant_config_changed.connect(heard)
    callcenter_changed.connect(heard)
    try:
        yield
    finally:
        tenant_config_changed.disconnect(heard)
        callcenter_changed.disconnect(heard)
    assert announced == []
    assert AuditEvent.objects.filter(account=account).count() == events


# --- refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize(("username", "refusal"), REFUSED)
def test_staff_who_may_not_write_are_refused_and_nothing_changes(tree, kind, username, refusal):
    actor = staff_of_c1(tree, username)
    obj = kind.make(tree.c1)
    before = getattr(reload(tree.c1, obj), kind.changed_field)
    rows = count(tree.c1, kind.model)
    with nothing_written(tree.c1):
        with pytest.raises(refusal):
            kind.create(tree.c1, **kind.another_data, actor=actor)
        with pytest.raises(refusal):
            kind.update(tree.c1, obj, **kind.update_data, actor=actor)
        with pytest.raises(refusal):
            kind.delete(tree.c1, obj, actor=actor)
    assert count(tree.c1, kind.model) == rows
    assert getattr(reload(tree.c1, obj), kind.changed_field) == before


@pytest.mark.parametrize(("username", "refusal"), REFUSED)
def test_members_keys_and_agents_are_refused_alike(tree, username, refusal):
    actor = staff_of_c1(tree, username)
    alice = extension(tree.c1, "1001")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    menu = do_create_ivr(tree.c1, name="Main")
    queue = do_create_queue(tree.c1, number="5000", name="Sales")
    with nothing_written(tree.c1):
        with pytest.raises(refusal):
            do_set_ring_group_members(tree.c1, group, [(ref(alice), None, True)], actor=actor)
        with pytest.raises(refusal):
            do_set_ivr_options(tree.c1, menu, {"1": ref(alice)}, actor=actor)
        with pytest.raises(refusal):
            do_set_queue_agents(tree.c1, queue, [Agent(alice)], actor=actor)
    assert count(tree.c1, RingGroupMember) == count(tree.c1, IvrOption) == count(tree.c1, QueueAgent) == 0


# --- allowed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("username", ["c1_admin", "r1_admin"])
def test_admins_of_the_account_or_above_write_and_are_recorded_with_their_address(tree, kind, username):
    actor = tree.user(username)
    obj = kind.make(tree.c1, actor=actor, ip="203.0.113.7")
    assert exists(tree.c1, obj)
    obj = kind.update(tree.c1, obj, **kind.update_data, actor=actor, ip="203.0.113.8")
    assert getattr(reload(tree.c1, obj), kind.changed_field) == kind.update_data[kind.changed_field]
    kind.delete(tree.c1, obj, actor=actor, ip="203.0.113.9")
    assert not exists(tree.c1, obj)
    for verb, ip in (("create", "203.0.113.7"), ("update", "203.0.113.8"), ("delete", "203.0.113.9")):
        event = last_event(tree.c1, f"{kind.audit_name}.{verb}")
        assert (event.actor.username, event.ip, event.scope_path) == (username, ip, tree.c1.path)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_platform_itself_writes_without_a_person(tree, kind):
    # Demo data and feature codes dialed on a phone act with no staff user.
    obj = kind.make(tree.c1)
    kind.update(tree.c1, obj, **kind.update_data)
    kind.delete(tree.c1, obj)
    assert last_event(tree.c1, f"{kind.audit_name}.delete").actor is None
