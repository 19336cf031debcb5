"""Trunks: who may manage them, what is refused at save, and which trunks an account's
calls use (Parent vs Local)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from carriers.actions import (
    do_create_trunk,
    do_delete_trunk,
    do_remove_gateway,
    do_save_gateway,
    do_set_trunk_source,
    do_update_trunk,
)
from carriers.models import Gateway, Trunk
from carriers.routing import trunks_of
from common.secrets import decrypt_secret
from tenants.models import AuditEvent
from tenants.scoping import NotInSubtree
from tenants.tenancy import tenant_for_domain

GATEWAY = {"server": "sip.carrier.example.com"}


def trunk(actor, account, name="Carrier", **fields):
    fields.setdefault("gateways", [GATEWAY])
    return do_create_trunk(actor, account, name=name, **fields)


def test_master_defines_platform_trunks_and_every_account_uses_them(tree):
    trunk(tree.user("master_admin"), tree.master, rules=[r"^\+(1\d{10})$"])
    for account in (tree.c1, tree.c1a, tree.c2, tree.c0):
        tenant = tenant_for_domain(account.primary_domain_name)
        assert tenant.trunk_owner_id == tree.master.pk
        assert [t.name for t in trunks_of(tenant.trunk_owner_id)] == ["Carrier"]


def test_local_trunks_serve_the_account_and_the_accounts_below_it(tree):
    trunk(tree.user("master_admin"), tree.master, name="Platform")
    do_set_trunk_source(tree.user("master_admin"), tree.r1, "local")
    trunk(tree.user("master_admin"), tree.r1, name="R1 carrier")
    # c1 and r1a follow r1 (Parent); r1a's own customers too; r2's subtree keeps the platform.
    for account in (tree.c1, tree.c1a):
        assert tenant_for_domain(account.primary_domain_name).trunk_owner_id == tree.r1.pk
    assert tenant_for_domain(tree.c2.primary_domain_name).trunk_owner_id == tree.master.pk
    # A Local account without trunks has no way out, rather than silently using the parent's.
    do_set_trunk_source(tree.user("r1_admin"), tree.c1, "local")
    owner = tenant_for_domain(tree.c1.primary_domain_name).trunk_owner_id
    assert owner == tree.c1.pk and trunks_of(owner) == []


def test_invalid_regex_is_a_field_error_and_nothing_is_saved(tree):
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master, rules=[r"^\+1\d{10}$", r"^\+(44"])
    assert "rules" in raised.value.message_dict
    assert "Rule 2" in " ".join(raised.value.message_dict["rules"])
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master, caller_id_regex="(unclosed")
    assert "caller_id_regex" in raised.value.message_dict
    assert not Trunk.objects.exists()


def test_bad_gateway_fields_name_the_gateway_and_roll_back(tree):
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master,
              gateways=[GATEWAY, {"server": "not a host", "port": 70000}])
    messages = " ".join(raised.value.message_dict["gateways"])
    assert "Gateway 2, server" in messages and "Gateway 2, port" in messages
    assert not Trunk.objects.exists() and not Gateway.objects.exists()
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master, gateways=[])
    assert "gateways" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master, gateways=[{**GATEWAY, "register": True}])
    assert "Registering needs" in " ".join(raised.value.message_dict["gateways"])


def test_names_are_unique_per_account_only(tree):
    trunk(tree.user("master_admin"), tree.master, name="Carrier")
    with pytest.raises(ValidationError) as raised:
        trunk(tree.user("master_admin"), tree.master, name="carrier")
    assert "name" in raised.value.message_dict
    trunk(tree.user("master_admin"), tree.r1, name="Carrier")


def test_gateway_password_is_stored_encrypted(tree):
    created = trunk(tree.user("master_admin"), tree.master,
                    gateways=[{**GATEWAY, "username": "acct", "password": "carrier-pw", "register": True}])
    gateway = created.gateways.get()
    assert "carrier-pw" not in gateway.password_encrypted
    assert decrypt_secret(gateway.password_encrypted) == "carrier-pw"


@pytest.mark.parametrize("actor,account", [
    ("r1_admin", "r1"),        # its own account: the provider decides its carriers
    ("c1_admin", "c1"),
    ("r2_admin", "c1"),        # another reseller's customer
    ("r1a_admin", "r1"),       # the account above it
    ("r1_readonly", "c1"),
])
def test_who_may_not_manage_trunks(tree, actor, account):
    with pytest.raises((PermissionDenied, NotInSubtree)):
        trunk(tree.user(actor), getattr(tree, account))
    with pytest.raises((PermissionDenied, NotInSubtree, ValidationError)):
        do_set_trunk_source(tree.user(actor), getattr(tree, account), "local")


def test_a_reseller_cannot_touch_trunks_outside_its_subtree(tree):
    theirs = trunk(tree.user("r2_admin"), tree.c2, name="C2 carrier")
    gateway = theirs.gateways.get()
    attacker = tree.user("r1_admin")
    for attempt in (
        lambda: do_update_trunk(attacker, theirs, name="pwned"),
        lambda: do_delete_trunk(attacker, theirs),
        lambda: do_save_gateway(attacker, theirs, gateway, server="evil.example.com"),
        lambda: do_save_gateway(attacker, theirs, server="evil.example.com"),
        lambda: do_remove_gateway(attacker, gateway),
    ):
        with pytest.raises(NotInSubtree):
            attempt()
    theirs.refresh_from_db()
    assert theirs.name == "C2 carrier" and theirs.gateways.get().server == GATEWAY["server"]


def test_writes_are_audited(tree):
    created = trunk(tree.user("r1_admin"), tree.c1, name="C1 carrier")
    do_save_gateway(tree.user("r1_admin"), created, server="backup.carrier.example.com")
    do_update_trunk(tree.user("r1_admin"), created, weight_cost=10)
    actions = list(AuditEvent.objects.filter(account=tree.c1).values_list("action", flat=True))
    assert {"trunk.create", "gateway.create", "trunk.update"} <= set(actions)


def test_last_gateway_cannot_be_removed(tree):
    created = trunk(tree.user("master_admin"), tree.master)
    with pytest.raises(ValidationError):
        do_remove_gateway(tree.user("master_admin"), created.gateways.get())


def test_master_trunk_source_cannot_change(tree):
    with pytest.raises(ValidationError):
        do_set_trunk_source(tree.user("master_admin"), tree.master, "parent")
