"""End users' logins (My phone): the admin's invitation binds a login to one extension;
the login writes its own extension's forwards, do-not-disturb, follow-me and voicemail
PIN through the admin's actions and nothing else anywhere; user-activation staff enable
and disable it; deleting the extension unbinds and disables it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from pbx.actions import (
    do_add_call_block,
    do_add_device,
    do_create_extension,
    do_create_ring_group,
    do_delete_extension,
    do_set_follow_me,
    do_update_extension,
)
from pbx.actions.endusers import bound_extension, do_invite_end_user, login_of
from pbx.actions.voicemail import do_set_voicemail_pin
from pbx.models import Extension, FollowMe, VoicemailBox
from tenants.actions import do_set_user_active
from tenants.models import AuditEvent, Role, User
from tenants.scoping import NotInSubtree


def _invite(tree, extension, email="alice@example.com", **kw):
    return do_invite_end_user(tree.c1, extension, email=email, actor=tree.user("c1_admin"),
                              ip="192.0.2.5", **kw)


@pytest.fixture
def office(tree):
    alice = do_create_extension(tree.c1, number="1001", name="Alice")
    bob = do_create_extension(tree.c1, number="1002", name="Bob")
    return alice, bob


def test_the_invitation_makes_a_bound_login_without_a_password_and_mails_the_link(tree, office,
                                                                                   django_capture_on_commit_callbacks):
    alice, _bob = office
    with django_capture_on_commit_callbacks(execute=True):
        user = _invite(tree, alice)
    user.refresh_from_db()
    assert (user.username, user.role, user.account_id, user.extension_pk) == (
        "alice@example.com", Role.END_USER, tree.c1.pk, alice.pk)
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action="end_user.invite")
    assert (event.actor, event.ip, event.details["extension"]) == (tree.user("c1_admin"), "192.0.2.5", "1001")
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    link = re.search(r"http://\S+/my/welcome/\S+/\S+/", message.body).group(0)
    assert link.startswith("http://c1.localhost")
    assert bound_extension(user, tree.c1) == alice
    assert login_of(tree.c1, alice) == user


def test_inviting_again_resends_until_a_password_is_set_and_one_login_per_extension(
        tree, office, django_capture_on_commit_callbacks):
    alice, _bob = office
    with django_capture_on_commit_callbacks(execute=True):
        first = _invite(tree, alice)
        again = _invite(tree, alice, email="alice@new.example.com")
    assert first.pk == again.pk and len(mail.outbox) == 2
    assert User.objects.filter(extension_pk=alice.pk).count() == 1
    again.set_password("an-employee-password-1")
    again.save()
    with pytest.raises(ValidationError) as refused:
        _invite(tree, alice)
    assert "already has a login" in str(refused.value)


def test_a_taken_username_and_a_bad_address_are_field_errors(tree, office):
    alice, bob = office
    _invite(tree, alice, email="someone@example.com")
    with pytest.raises(ValidationError) as taken:
        _invite(tree, bob, email="someone@example.com")
    assert "email" in taken.value.message_dict
    with pytest.raises(ValidationError) as bad:
        _invite(tree, bob, email="not an address")
    assert "email" in bad.value.message_dict


@pytest.mark.parametrize(("username", "refusal"), [("r1_readonly", PermissionDenied),
                                                   ("r1_activation", PermissionDenied),
                                                   ("c2_admin", NotInSubtree)])
def test_only_admins_invite(tree, office, username, refusal):
    alice, _bob = office
    with pytest.raises(refusal):
        do_invite_end_user(tree.c1, alice, email="a@example.com", actor=tree.user(username))
    assert not User.objects.filter(role=Role.END_USER).exists()


@pytest.fixture
def alice_login(tree, office):
    alice, _bob = office
    user = _invite(tree, alice)
    user.set_password("an-employee-password-1")
    user.save()
    return user


def test_the_end_user_writes_their_own_forwards_dnd_follow_me_and_pin(tree, office, alice_login):
    alice, bob = office
    do_update_extension(tree.c1, alice, actor=alice_login, ip="192.0.2.9", do_not_disturb=True,
                        forward_no_answer=True, forward_no_answer_to=f"extension:{bob.pk}")
    do_set_follow_me(tree.c1, alice, steps=[{"targets": [f"extension:{bob.pk}"]}], actor=alice_login)
    with schema_context(tree.c1.schema_name):
        box = VoicemailBox.objects.get(extension=alice)
    do_set_voicemail_pin(tree.c1, box, pin="580214", actor=alice_login)
    with schema_context(tree.c1.schema_name):
        alice.refresh_from_db()
        box.refresh_from_db()
        assert alice.do_not_disturb and alice.forward_no_answer_to == f"extension:{bob.pk}"
        assert FollowMe.objects.get(extension=alice).enabled
    assert box.pin == "580214"
    event = AuditEvent.objects.get(action="extension.update")
    assert (event.actor, event.ip) == (alice_login, "192.0.2.9")


def test_the_end_user_cannot_touch_anything_else(tree, office, alice_login):
    alice, bob = office
    with schema_context(tree.c1.schema_name):
        bobs_box = VoicemailBox.objects.get(extension=bob)
        before = list(Extension.objects.order_by("pk").values())
    events = AuditEvent.objects.count()
    refused = [
        # Their own extension's admin fields: call permission, name, enabled ...
        (ValidationError, lambda: do_update_extension(tree.c1, alice, actor=alice_login,
                                                      call_permission="international")),
        (ValidationError, lambda: do_update_extension(tree.c1, alice, actor=alice_login, name="Boss")),
        (ValidationError, lambda: do_update_extension(tree.c1, alice, actor=alice_login,
                                                      voicemail_pin="580214")),
        # Another extension's anything.
        (PermissionDenied, lambda: do_update_extension(tree.c1, bob, actor=alice_login, do_not_disturb=True)),
        (PermissionDenied, lambda: do_set_follow_me(
            tree.c1, bob, steps=[{"targets": [f"extension:{alice.pk}"]}], actor=alice_login)),
        (PermissionDenied, lambda: do_set_voicemail_pin(tree.c1, bobs_box, pin="580214", actor=alice_login)),
        # A box passed with a forged owner: the stored row decides.
        (PermissionDenied, lambda: do_set_voicemail_pin(
            tree.c1, VoicemailBox(pk=bobs_box.pk, extension_id=alice.pk), pin="580214", actor=alice_login)),
        # Admin actions.
        (PermissionDenied, lambda: do_create_extension(tree.c1, number="1003", name="X", actor=alice_login)),
        (PermissionDenied, lambda: do_delete_extension(tree.c1, alice, actor=alice_login)),
        (PermissionDenied, lambda: do_add_device(tree.c1, alice, actor=alice_login)),
        (PermissionDenied, lambda: do_add_call_block(tree.c1, pattern="+1900*", actor=alice_login)),
        (PermissionDenied, lambda: do_create_ring_group(tree.c1, number="2000", name="G", actor=alice_login)),
        (PermissionDenied, lambda: do_invite_end_user(tree.c1, bob, email="b@example.com",
                                                      actor=alice_login)),
        (PermissionDenied, lambda: do_set_user_active(alice_login, tree.user("c1_admin"), False)),
        # Another account's extension with the same primary key.
        (NotInSubtree, lambda: do_update_extension(tree.c2, alice, actor=alice_login, do_not_disturb=True)),
    ]
    for error, write in refused:
        with pytest.raises(error):
            write()
    with schema_context(tree.c1.schema_name):
        assert list(Extension.objects.order_by("pk").values()) == before
        assert VoicemailBox.objects.get(pk=bobs_box.pk).pin == bobs_box.pin
        assert not FollowMe.objects.exists()
    assert AuditEvent.objects.count() == events
    assert tree.user("c1_admin").is_active


def test_forwarding_to_an_outside_number_is_checked_like_the_admins(tree, office, alice_login):
    alice, _bob = office
    do_update_extension(tree.c1, alice, call_permission="internal")
    with pytest.raises(ValidationError) as barred:
        do_update_extension(tree.c1, alice, actor=alice_login, forward_all=True,
                            forward_all_to="external:+12125550100")
    assert "forward_all_to" in barred.value.message_dict
    with schema_context(tree.c1.schema_name):
        assert not Extension.objects.get(pk=alice.pk).forward_all


def test_user_activation_staff_enable_and_disable_the_login(tree, office, alice_login):
    activation = tree.user("r1_activation")
    do_set_user_active(activation, alice_login, False, ip="192.0.2.6")
    alice_login.refresh_from_db()
    assert not alice_login.is_active
    do_set_user_active(activation, alice_login, True)
    alice_login.refresh_from_db()
    assert alice_login.is_active
    toggles = AuditEvent.objects.filter(action__in=["user.disable", "user.enable"], actor=activation)
    assert toggles.count() == 2
    with pytest.raises(PermissionDenied):
        do_set_user_active(tree.user("r1_readonly"), alice_login, False)


def test_user_activation_staff_enable_and_disable_employees_only(tree, office, alice_login):
    """Seed 002: user activation "allows billing department to enable or disable users
    only": not an admin, read-only, supervisor or other user-activation login, nor their
    own; an admin still may (not themselves)."""
    activation = tree.user("r1_activation")
    before = AuditEvent.objects.count()
    for target in ("c1_admin", "r1_admin", "r1_readonly", "r1_activation"):
        with pytest.raises(PermissionDenied):
            do_set_user_active(activation, tree.user(target), False)
        assert User.objects.get(username=target).is_active
    assert AuditEvent.objects.count() == before
    do_set_user_active(tree.user("r1_admin"), tree.user("r1_readonly"), False)
    assert not User.objects.get(username="r1_readonly").is_active
    with pytest.raises(PermissionDenied):
        do_set_user_active(tree.user("r1_admin"), tree.user("r1_admin"), False)


def test_deleting_the_extension_unbinds_and_disables_its_login(tree, office, alice_login):
    alice, _bob = office
    do_delete_extension(tree.c1, alice, actor=tree.user("c1_admin"), ip="192.0.2.5")
    alice_login.refresh_from_db()
    assert (alice_login.extension_pk, alice_login.is_active) == (None, False)
    assert AuditEvent.objects.filter(action="end_user.unbind",
                                     details__username=alice_login.username).exists()
    assert bound_extension(alice_login, tree.c1) is None
