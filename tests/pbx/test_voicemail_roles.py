"""Voicemail boxes check the role inside their actions (pbx.actions.crud.authorize) and
record the writer's address, like every other PBX object."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_voicemail_box,
    do_delete_voicemail_box,
    do_set_voicemail_pin,
    do_update_voicemail_box,
)
from pbx.models import VoicemailBox
from tenants.models import AuditEvent
from tenants.scoping import NotInSubtree


@pytest.mark.parametrize(("username", "refusal"), [("r1_readonly", PermissionDenied),
                                                   ("r1_activation", PermissionDenied),
                                                   ("c2_admin", NotInSubtree)])
def test_staff_who_may_not_write_are_refused(tree, username, refusal):
    actor = tree.user(username)
    box, pin = do_create_voicemail_box(tree.c1, number="7000", name="General")
    events = AuditEvent.objects.count()
    for write in (lambda: do_create_voicemail_box(tree.c1, number="7001", name="X", actor=actor),
                  lambda: do_update_voicemail_box(tree.c1, box, name="Changed", actor=actor),
                  lambda: do_set_voicemail_pin(tree.c1, box, actor=actor),
                  lambda: do_delete_voicemail_box(tree.c1, box, actor=actor)):
        with pytest.raises(refusal):
            write()
    with schema_context(tree.c1.schema_name):
        assert list(VoicemailBox.objects.values_list("number", "name", "pin")) == [("7000", "General", pin)]
    assert AuditEvent.objects.count() == events


def test_an_admins_writes_are_recorded_with_the_address(tree):
    admin = tree.user("r1_admin")
    box, _pin = do_create_voicemail_box(tree.c1, number="7000", name="General", actor=admin, ip="192.0.2.7")
    do_update_voicemail_box(tree.c1, box, name="Office", actor=admin, ip="192.0.2.7")
    do_set_voicemail_pin(tree.c1, box, actor=admin, ip="192.0.2.7")
    do_delete_voicemail_box(tree.c1, box, actor=admin, ip="192.0.2.7")
    events = AuditEvent.objects.filter(action__startswith="voicemail.")
    assert sorted(events.values_list("action", flat=True)) == [
        "voicemail.create", "voicemail.delete", "voicemail.pin", "voicemail.update"]
    assert set(events.values_list("actor", "ip")) == {(admin.pk, "192.0.2.7")}
