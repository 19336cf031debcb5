"""Admin → SIP authentication blocks: scoped lists (a reseller sees its customers' user
blocks, never an address block; the master sees all), 404 outside, clearing through the
list's action (audited with the clearer's address)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from fsnodes.models import AuthBlock
from tenants.models import AuditEvent
from tests.conftest import Browser

LIST = "/admin/fsnodes/authblock/"


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def blocks(tree):
    soon = timezone.now() + timedelta(minutes=15)
    user = AuthBlock.objects.create(kind=AuthBlock.Kind.USER, account=tree.c1, user_id="1001",
                                    domain="c1.example.net", address="198.51.100.7", failures=10,
                                    expires_at=soon)
    other = AuthBlock.objects.create(kind=AuthBlock.Kind.USER, account=tree.c2, user_id="2002",
                                     domain="c2.example.net", address="198.51.100.8", failures=10,
                                     expires_at=soon)
    address = AuthBlock.objects.create(kind=AuthBlock.Kind.ADDRESS, address="203.0.113.9", failures=20,
                                       expires_at=soon)
    return user, other, address


def test_each_admin_sees_the_blocks_within_reach(tree):
    _user, other, address = blocks(tree)
    r1 = admin_as(tree, "r1_admin").get(LIST).content.decode()
    assert "1001@c1.example.net" in r1 and "2002@c2.example.net" not in r1 and "203.0.113.9" not in r1
    master = admin_as(tree, "master_admin").get(LIST).content.decode()
    assert all(text in master for text in ("1001@c1.example.net", "2002@c2.example.net", "203.0.113.9"))
    assert admin_as(tree, "r1_admin").get(f"{LIST}{address.pk}/change/").status_code == 404
    assert admin_as(tree, "r1_admin").get(f"{LIST}{other.pk}/change/").status_code == 404
    assert admin_as(tree, "r2_admin").get(f"{LIST}{other.pk}/change/").status_code == 200


def test_clearing_from_the_list(tree):
    user, other, _address = blocks(tree)
    page = admin_as(tree, "r1_admin").post(LIST, {"action": "clear_blocks", "_selected_action": [user.pk]},
                                           follow=True)
    assert "Cleared 1 block(s)." in page.content.decode()
    user.refresh_from_db()
    assert user.cleared_by == "r1_admin" and not user.active
    event = AuditEvent.objects.get(action="sip_auth.unblock")
    assert event.account == tree.c1 and str(event.ip) == "127.0.0.1"
    # Another reseller's customer cannot be cleared by smuggling its id into the action.
    admin_as(tree, "r1_admin").post(LIST, {"action": "clear_blocks", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.cleared_at is None
    # Read-only staff have no actions.
    admin_as(tree, "r1_readonly").post(LIST, {"action": "clear_blocks", "_selected_action": [user.pk]})
    assert AuditEvent.objects.filter(action="sip_auth.unblock").count() == 1
