"""Extensions and devices check the role inside their actions, like every other PBX
object (pbx.actions.crud.authorize): read-only and user-activation staff and other
tenants' staff are refused with nothing written; an admin's write is audited with the
address."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from pbx.actions import (
    do_add_device,
    do_create_extension,
    do_delete_extension,
    do_remove_device,
    do_update_device,
    do_update_extension,
)
from pbx.models import Device, Extension
from tenants.models import AuditEvent
from tenants.scoping import NotInSubtree
from tests.pbx.routing_helpers import extension


@pytest.mark.parametrize(("username", "refusal"), [("r1_readonly", PermissionDenied),
                                                   ("r1_activation", PermissionDenied),
                                                   ("c2_admin", NotInSubtree)])
def test_staff_who_may_not_write_are_refused(tree, username, refusal):
    actor = tree.user(username)
    alice = extension(tree.c1, "1001")
    device, _secret = do_add_device(tree.c1, alice)
    events = AuditEvent.objects.count()
    writes = [
        lambda: do_create_extension(tree.c1, number="1002", name="Bob", actor=actor),
        lambda: do_update_extension(tree.c1, alice, name="Changed", actor=actor),
        lambda: do_delete_extension(tree.c1, alice, actor=actor),
        lambda: do_add_device(tree.c1, alice, actor=actor),
        lambda: do_update_device(tree.c1, device, rotate_secret=True, actor=actor),
        lambda: do_remove_device(tree.c1, device, actor=actor),
    ]
    for write in writes:
        with pytest.raises(refusal):
            write()
    with schema_context(tree.c1.schema_name):
        assert list(Extension.objects.values_list("number", "name")) == [("1001", "User 1001")]
        assert Device.objects.get().secret_encrypted == device.secret_encrypted
    assert AuditEvent.objects.count() == events


def test_an_ancestors_admin_writes_and_is_recorded_with_the_address(tree):
    admin = tree.user("r1_admin")
    alice = do_create_extension(tree.c1, number="1001", name="Alice", actor=admin, ip="192.0.2.7")
    device, _secret = do_add_device(tree.c1, alice, actor=admin, ip="192.0.2.7")
    do_update_device(tree.c1, device, label="Desk", actor=admin, ip="192.0.2.7")
    do_remove_device(tree.c1, device, actor=admin, ip="192.0.2.7")
    do_update_extension(tree.c1, alice, name="Alice B", actor=admin, ip="192.0.2.7")
    do_delete_extension(tree.c1, alice, actor=admin, ip="192.0.2.7")
    events = AuditEvent.objects.filter(action__startswith=("extension.")) | AuditEvent.objects.filter(
        action__startswith="device.")
    assert sorted(events.values_list("action", flat=True)) == sorted(
        ["extension.create", "device.create", "device.update", "device.delete", "extension.update",
         "extension.delete"])
    assert set(events.values_list("actor", "ip")) == {(admin.pk, "192.0.2.7")}
