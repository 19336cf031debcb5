"""API keys (tenants.actions.do_create_api_key / do_revoke_api_key, tenants.identity):
the token is shown once and only its hash kept, who may make and revoke keys for whom,
and what a key is refused for (revoked, expired, disabled user, suspended account,
another tenant's host)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tenants.actions import do_create_api_key, do_revoke_api_key, do_suspend_account, do_update_staff_user
from tenants.identity import KeyRefused, api_key_identity
from tenants.models import ApiKey, AuditEvent
from tenants.models.apikeys import hash_token
from tenants.scoping import NotInSubtree


def test_the_token_is_returned_once_and_only_its_hash_is_kept(tree):
    admin = tree.user("c1_admin")
    key, token = do_create_api_key(tree.c1, actor=admin, user=admin, name="billing sync", ip="10.0.0.9")
    assert token.startswith(f"sb_{key.prefix}_") and len(token) > 50
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.token_hash == hash_token(token) and token not in str(stored.__dict__)
    assert ApiKey.objects.matching(token) == key
    assert ApiKey.objects.matching(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert ApiKey.objects.matching(f"sb_{key.prefix}_") is None
    event = AuditEvent.objects.get(action="api_key.create")
    assert (event.actor, event.account, event.ip) == (admin, tree.c1, "10.0.0.9")
    assert event.details["prefix"] == key.prefix and token not in str(event.details)


def test_staff_make_keys_for_themselves_and_admins_for_the_users_they_manage(tree):
    readonly = tree.user("r1_readonly")
    key, _token = do_create_api_key(tree.r1, actor=readonly, user=readonly, name="reports")
    assert key.user == readonly
    # An admin of R1 for a user of C1 below it.
    c1_admin = tree.user("c1_admin")
    do_create_api_key(tree.c1, actor=tree.user("r1_admin"), user=c1_admin, name="for c1")
    with pytest.raises(PermissionDenied):
        do_create_api_key(tree.r1, actor=tree.user("r1_activation"), user=readonly, name="x")
    with pytest.raises(PermissionDenied):
        do_create_api_key(tree.r1, actor=readonly, user=tree.user("r1_admin"), name="x")
    with pytest.raises(NotInSubtree):
        do_create_api_key(tree.c1, actor=tree.user("c2_admin"), user=c1_admin, name="x")
    with pytest.raises(ValidationError) as wrong_account:
        do_create_api_key(tree.c2, actor=tree.user("master_admin"), user=c1_admin, name="x")
    assert "user" in wrong_account.value.message_dict


def test_a_key_needs_a_name_and_a_future_expiry(tree):
    admin = tree.user("c1_admin")
    with pytest.raises(ValidationError) as refused:
        do_create_api_key(tree.c1, actor=admin, user=admin, name=" ",
                          expires_at=timezone.now() - timedelta(minutes=1))
    assert set(refused.value.message_dict) == {"name", "expires_at"}
    assert not ApiKey.objects.exists()


def test_revoking_is_audited_and_refused_to_others(tree):
    admin = tree.user("c1_admin")
    key, token = do_create_api_key(tree.c1, actor=admin, user=admin, name="k")
    with pytest.raises(NotInSubtree):
        do_revoke_api_key(tree.c1, key, actor=tree.user("c2_admin"))
    with pytest.raises(NotInSubtree):
        do_revoke_api_key(tree.c2, key, actor=tree.user("master_admin"))
    do_revoke_api_key(tree.c1, key, actor=tree.user("r1_admin"), ip="10.0.0.1")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert AuditEvent.objects.get(action="api_key.revoke").actor == tree.user("r1_admin")
    with pytest.raises(KeyRefused, match="revoked"):
        api_key_identity(token, tree.master)


def test_what_a_key_reaches_depends_on_the_host(tree):
    r1_admin = tree.user("r1_admin")
    _key, token = do_create_api_key(tree.r1, actor=r1_admin, user=r1_admin, name="k")
    on_provider_host = api_key_identity(token, tree.master)
    assert (on_provider_host.user, on_provider_host.account) == (r1_admin, tree.r1)
    assert on_provider_host.account_named(tree.c1.pk) == tree.c1
    with pytest.raises(NotInSubtree):
        on_provider_host.account_named(tree.c2.pk)
    # On C1's own host the key reaches C1 only; on C2's (outside R1) it is no key at all.
    on_c1_host = api_key_identity(token, tree.c1)
    assert on_c1_host.account == tree.c1
    with pytest.raises(NotInSubtree):
        on_c1_host.account_named(tree.r1.pk)
    with pytest.raises(KeyRefused, match="Invalid"):
        api_key_identity(token, tree.c2)


def test_a_key_of_a_disabled_user_or_a_suspended_account_is_refused(tree):
    c1_admin = tree.user("c1_admin")
    _key, token = do_create_api_key(tree.c1, actor=c1_admin, user=c1_admin, name="k")
    last_used = ApiKey.objects.get().last_used_at
    assert last_used is None
    api_key_identity(token, tree.master)
    assert ApiKey.objects.get().last_used_at is not None
    do_suspend_account(tree.user("master_admin"), tree.r1)
    with pytest.raises(KeyRefused, match="suspended"):
        api_key_identity(token, tree.master)
    _key, r1_token = do_create_api_key(tree.r1, actor=tree.user("master_admin"),
                                       user=tree.user("r1_readonly"), name="k")
    do_update_staff_user(tree.user("master_admin"), tree.user("r1_readonly"), is_active=False)
    with pytest.raises(KeyRefused, match="disabled"):
        api_key_identity(r1_token, tree.master)


def test_a_read_only_key_of_an_admin_is_read_only(tree):
    admin = tree.user("c1_admin")
    _key, token = do_create_api_key(tree.c1, actor=admin, user=admin, name="k", read_only=True)
    assert api_key_identity(token, tree.master).read_only
    _key, token = do_create_api_key(tree.c1, actor=admin, user=admin, name="k2")
    assert not api_key_identity(token, tree.master).read_only
