"""SIP password guessing (issue 16), the xml_curl side: a live block makes the directory
answer not-found to the ``sip_auth`` lookups it covers (the user's in its account, or any
from the blocked address), never to lookups that ring a user; blocks' start and end bump
the cache generation, so warm answers still read nothing; admins see and clear blocks
within their reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fsnodes.auth_guard import (
    auth_blocks_changed,
    blocks_visible_to,
    do_clear_auth_block,
    start_address_block,
)
from fsnodes.models import AuthBlock
from tenants.models import AuditEvent
from tenants.scoping import NotInSubtree
from tests.fsconf.replay import replay, request

REGISTER = "directory-sip_auth-register-acme-1001-a1hash-ok"  # from 127.0.0.1


def answered(name: str = REGISTER) -> bool:
    result = replay(request(name))
    assert result.status_code == 200
    return b"a1-hash" in result.content or b"dial-string" in result.content


def block_user(tree, user="1001", seconds=300):
    return AuthBlock.objects.create(kind=AuthBlock.Kind.USER, account=tree.c1, user_id=user,
                                    domain="acme.example.net", address="198.51.100.7", failures=10,
                                    expires_at=timezone.now() + timedelta(seconds=seconds))


def test_a_blocked_user_is_not_found_for_authentication_only(acme_beta, committed):
    assert answered()
    with committed():
        block_user(acme_beta)
        auth_blocks_changed.send(AuthBlock, kind="user", account=acme_beta.c1)
    assert not answered()  # the cached answer was invalidated
    assert answered("directory-user_call-acme-1002")  # calls still ring users
    assert answered("directory-sip_auth-register-beta-1001-password-ok")  # beta's 1001 is not blocked


def test_a_blocked_address_is_refused_for_every_user_and_warm_answers_read_nothing(acme_beta, committed):
    with committed():
        start_address_block("127.0.0.1", 20, 300)
    assert not answered()
    assert not answered("directory-sip_auth-register-beta-1001-password-ok")
    with CaptureQueriesContext(connection) as queries:
        assert not answered()
    assert [q for q in queries if not q["sql"].startswith("SET search_path")] == []


def test_clearing_a_block_answers_again(acme_beta, committed):
    block = block_user(acme_beta)
    assert not answered()
    with committed():
        do_clear_auth_block(acme_beta.user("c1_admin"), block, ip="192.0.2.9")
    assert answered()
    block.refresh_from_db()
    assert block.cleared_by == "c1_admin"
    audit = AuditEvent.objects.get(action="sip_auth.unblock")
    assert audit.actor.username == "c1_admin" and str(audit.ip) == "192.0.2.9"


def test_an_expired_block_is_not_applied_even_before_the_sweep(acme_beta):
    block_user(acme_beta, seconds=-1)
    assert answered()


# -- who sees and clears -----------------------------------------------------------------

def test_blocks_are_scoped_to_the_tenant_and_addresses_to_the_master(acme_beta):
    user_block = block_user(acme_beta)
    address_block = start_address_block("203.0.113.5", 20, 300)
    assert set(blocks_visible_to(acme_beta.user("master_admin"))) == {user_block, address_block}
    assert list(blocks_visible_to(acme_beta.user("c1_admin"))) == [user_block]
    assert list(blocks_visible_to(acme_beta.user("r1_admin"))) == [user_block]
    assert list(blocks_visible_to(acme_beta.user("c2_admin"))) == []
    with pytest.raises(NotInSubtree):
        do_clear_auth_block(acme_beta.user("c2_admin"), user_block)
    with pytest.raises(NotInSubtree):
        do_clear_auth_block(acme_beta.user("r1_admin"), address_block)
    with pytest.raises(PermissionDenied):
        do_clear_auth_block(acme_beta.user("r1_readonly"), user_block)
    user_block.refresh_from_db()
    assert user_block.cleared_at is None
    do_clear_auth_block(acme_beta.user("master_admin"), address_block)
    address_block.refresh_from_db()
    assert address_block.cleared_by == "master_admin"
