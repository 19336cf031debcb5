"""The public directory index: directory lookups answered from it are the bytes the tenant's
own tables give, it follows every PBX write inside the write's transaction, it never
serves one tenant's user under another tenant's domain, and a cold lookup never enters a
tenant schema."""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from common.secrets import a1_hash
from fsconf.directory_index import rebuild
from fsconf.models import DirectoryEntry
from fsconf.request import parse_fetch_body
from fsconf.sections import directory
from pbx.actions import (
    do_add_device,
    do_create_extension,
    do_create_voicemail_box,
    do_delete_extension,
    do_delete_voicemail_box,
    do_remove_device,
    do_set_voicemail_pin,
    do_update_device,
    do_update_extension,
    do_update_voicemail_box,
)
from pbx.models import Device, Extension, VoicemailBox
from tenants.actions import (
    do_purge_account,
    do_reactivate_account,
    do_restore_account,
    do_soft_delete_account,
    do_suspend_account,
    do_update_account,
)
from tests.fsconf.replay import Captured, replay, request

REGISTER = "directory-sip_auth-register-acme-1001-a1hash-ok"
LOOKUPS = [REGISTER, "directory-voicemail-lookup-acme-1001", "directory-user_call-acme-1001-from-did",
           "directory-group_call-2-pointer-1001"]
DOMAINS = {"acme": "acme.example.net", "beta": "beta.example.net"}


def body(name: str, user: str, domain: str = "acme.example.net") -> Captured:
    """Capture ``name`` asking for ``user`` in ``domain`` (as tests/fsconf/test_directory.py
    rewrites them)."""
    captured = request(name)
    data = captured.body.replace(b"acme.example.net", domain.encode())
    data = data.replace(b"user=1001", b"user=" + user.encode())
    return Captured(captured.name, "POST", "/", captured.headers, data)


def rendered(captured: Captured, from_index: bool) -> bytes:
    """The directory section's answer, past the cache, from the index or the schema."""
    with override_settings(FSCONF_DIRECTORY_INDEX=from_index):
        return directory.answer(parse_fetch_body(captured.body))


def served(captured: Captured) -> bytes:
    response = replay(captured)
    assert response.status_code == 200
    return response.content


def not_found(content: bytes) -> bool:
    return etree.fromstring(content).find(".//result") is not None


def rows(account) -> list[tuple]:
    fields = [f.attname for f in DirectoryEntry._meta.concrete_fields if f.attname != "id"]
    return sorted(DirectoryEntry.objects.filter(account=account).values_list(*fields),
                  key=lambda row: (row[1], row[2]))


def _extension(account, number):
    with schema_context(account.schema_name):
        return Extension.objects.filter(number=number).first()


def _device(account, username):
    with schema_context(account.schema_name):
        return Device.objects.filter(username=username).first()


def _box(account, number):
    with schema_context(account.schema_name):
        return VoicemailBox.objects.filter(number=number).first()


# --- the index answers what the tenant's tables answer --------------------------------------

USERS = ["1001", "1002", "1003", "1004", "1001-2", "8000", "shared", "9999"]


def write(tree, step: tuple) -> None:
    """One write through the actions layer in acme or beta; refusals are part of it."""
    kind, tenant, value = step
    account = tree.c1 if tenant == "acme" else tree.c2
    if kind == "device":  # add, or remove when it exists
        username, number = value
        existing = _device(account, username)
        if existing is not None:
            do_remove_device(account, existing)
        elif _extension(account, number) is not None:
            do_add_device(account, _extension(account, number), username=username, secret=f"{username}-pw")
    elif kind == "device_flag":
        username, enabled = value
        if _device(account, username) is not None:
            do_update_device(account, _device(account, username), enabled=enabled)
    elif kind == "rotate":
        if _device(account, "1001") is not None:
            do_update_device(account, _device(account, "1001"), new_secret=value)
    elif kind == "extension":  # create, or delete when it exists
        existing = _extension(account, value)
        if existing is None:
            do_create_extension(account, number=value, name=f"Ext {value}")
        else:
            do_delete_extension(account, existing)
    elif kind == "extension_field":
        number, field, new = value
        if _extension(account, number) is not None:
            do_update_extension(account, _extension(account, number), **{field: new})
    elif kind == "box":  # create, or delete when it exists
        existing = _box(account, value)
        if existing is None:
            do_create_voicemail_box(account, number=value, name=f"Box {value}", pin="2580")
        elif existing.extension_id is None:
            do_delete_voicemail_box(account, existing)
    elif kind == "box_field":
        number, field, new = value
        if _box(account, number) is not None:
            do_update_voicemail_box(account, _box(account, number), **{field: new})
    elif kind == "pin":
        number, pin = value
        if _box(account, number) is not None:
            do_set_voicemail_pin(account, _box(account, number), pin=pin)
    elif kind == "account":
        do_update_account(tree.user("master_admin"), account, **value)


tenants = st.sampled_from(["acme", "beta"])
numbers = st.sampled_from(["1001", "1002", "1003", "1004"])
EXTENSION_FIELDS = st.one_of(
    st.tuples(st.just("name"),
              st.text(alphabet="ab <&>'\"é", min_size=1, max_size=8).map(str.strip).filter(bool)),
    st.tuples(st.just("enabled"), st.booleans()),
    st.tuples(st.just("voicemail_enabled"), st.booleans()),
    st.tuples(st.just("call_groups"), st.sampled_from([[], ["sales"], ["sales", "support"]])),
    st.tuples(st.just("call_permission"), st.sampled_from(["internal", "local", "international"])),
    st.tuples(st.just("ring_seconds"), st.integers(5, 300)),
    st.tuples(st.just("outbound_caller_id_number"), st.sampled_from(["", "+14165550199"])),
    st.tuples(st.just("language"), st.sampled_from(["", "fr"])),
    st.tuples(st.just("timezone"), st.sampled_from(["", "Europe/Paris"])),
    st.tuples(st.just("emergency_callback_number"), st.sampled_from(["", "+14165550111"])),
    st.tuples(st.just("number"), st.sampled_from(["1003", "1004"])),
    st.tuples(st.just("do_not_disturb"), st.booleans()),
    st.tuples(st.just("call_waiting"), st.booleans()),
    st.tuples(st.just("hidden_from_directory"), st.booleans()),
)
BOX_FIELDS = st.one_of(
    st.tuples(st.just("enabled"), st.booleans()),
    st.tuples(st.just("email"), st.sampled_from(["", "box@example.com"])),
    st.tuples(st.just("sms_email"), st.sampled_from(["", "4165550100@sms.example.com"])),
    st.tuples(st.just("skip_instructions"), st.booleans()),
)
STEPS = st.one_of(
    st.tuples(st.just("device"), tenants, st.tuples(st.sampled_from(["1001-2", "1003", "8000", "shared"]),
                                                    numbers)),
    st.tuples(st.just("device_flag"), tenants, st.tuples(st.sampled_from(["1001", "1001-2", "shared"]),
                                                         st.booleans())),
    st.tuples(st.just("rotate"), tenants, st.text(alphabet="abcdef0123", min_size=8, max_size=12)),
    st.tuples(st.just("extension"), tenants, st.sampled_from(["1003", "1004"])),
    st.tuples(st.just("extension_field"), tenants,
              numbers.flatmap(lambda n: EXTENSION_FIELDS.map(lambda f: (n, *f)))),
    st.tuples(st.just("box"), tenants, st.sampled_from(["8000", "8001"])),
    st.tuples(st.just("box_field"), tenants,
              st.sampled_from(["1001", "8000"]).flatmap(lambda n: BOX_FIELDS.map(lambda f: (n, *f)))),
    st.tuples(st.just("pin"), tenants, st.tuples(st.sampled_from(["1001", "8000"]),
                                                 st.sampled_from(["2580", "97531"]))),
    st.tuples(st.just("account"), tenants, st.sampled_from([
        {"timezone": "Europe/Paris"}, {"timezone": "America/Toronto"},
        {"allow_international": True}, {"allow_international": False}])),
)


def _schema_extension(account, **where):
    from pbx.routing import Tenancy, _extension_query

    t = Tenancy(account, account.primary_domain_name, None)
    (column, value), = where.items()
    return _extension_query(t, f"e.{column} = %s", value)


def assert_routing_facts_match_schema(tree) -> None:
    """What the dialplan reads from the index (an enabled extension, the call blocks) is
    what it would read from the tenant's schema."""
    from fsconf.directory_index import extension_facts
    from fsconf.tenancy import tenant_for_domain
    from pbx.models import CallBlock
    from pbx.routing import EXTENSION_EXTRAS

    for name in DOMAINS:
        account = tree.c1 if name == "acme" else tree.c2
        with schema_context(account.schema_name):
            extensions = list(Extension.objects.all())
            blocks = list(CallBlock.objects.order_by("pattern", "id").values(
                "id", "pattern", "anonymous", "direction", "comment", "extension_id"))
        for extension in extensions:
            for by, value in (("number", extension.number), ("pk", extension.pk)):
                copied = extension_facts(account.pk, by, value)
                if not extension.enabled:
                    assert copied is None, (name, extension.number)
                    continue
                truth = _schema_extension(account, **{"number" if by == "number" else "id": value})
                assert copied is not None, (name, extension.number)
                for field in Extension._meta.concrete_fields:
                    assert getattr(copied, field.attname) == getattr(truth, field.attname), \
                        (name, extension.number, field.name)
                for extra in EXTENSION_EXTRAS:
                    assert getattr(copied, extra) == getattr(truth, extra), (name, extension.number, extra)
        assert tenant_for_domain(DOMAINS[name]).call_blocks == blocks, name


def assert_index_matches_schema(tree) -> None:
    assert_routing_facts_match_schema(tree)
    for domain in DOMAINS.values():
        for user in USERS:
            for name in LOOKUPS:
                captured = body(name, user, domain)
                assert rendered(captured, True) == rendered(captured, False), (name, user, domain)
        group = request("directory-group_call-1-group-sales")
        for group_name in ("sales", "support"):
            captured = Captured(group.name, "POST", "/", group.headers, group.body.replace(
                b"acme.example.net", domain.encode()).replace(b"sales", group_name.encode()))
            assert rendered(captured, True) == rendered(captured, False), (group_name, domain)


def test_index_answers_the_captured_lookups_as_the_schema_does(acme_beta):
    assert DirectoryEntry.objects.filter(account=acme_beta.c1).exists()
    assert_index_matches_schema(acme_beta)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=8))
def test_after_any_writes_the_index_answers_as_the_schema_does(acme_beta, steps):
    for step in steps:
        with contextlib.suppress(ValidationError):
            write(acme_beta, step)
    acme_beta.refresh()
    assert_index_matches_schema(acme_beta)


def test_ranking_device_before_extension_before_box(acme_beta):
    """A name held by a device, an extension and a box at once is the device (then the
    extension), as the tenant-schema lookup ranks them."""
    acme = acme_beta.c1
    do_create_voicemail_box(acme, number="8000", name="Sales", pin="2580")
    do_add_device(acme, _extension(acme, "1001"), username="8000", secret="eight-thousand")
    kinds = sorted(DirectoryEntry.objects.filter(account=acme, user_id="8000").values_list("kind", flat=True))
    assert kinds == [DirectoryEntry.Kind.DEVICE, DirectoryEntry.Kind.VOICEMAIL_BOX]
    _, params = params_of(served(body(REGISTER, "8000")))
    assert params["a1-hash"] == a1_hash("8000", "acme.example.net", "eight-thousand")
    assert_index_matches_schema(acme_beta)


def params_of(content: bytes) -> tuple[etree._Element, dict]:
    root = etree.fromstring(content)
    return root, {p.get("name"): p.get("value") for p in root.findall(".//user/params/param")}


# --- from the attacker's side ---------------------------------------------------------------

def test_a_username_of_one_tenant_is_not_found_under_another_tenants_domain(acme_beta):
    acme, beta = acme_beta.c1, acme_beta.c2
    do_add_device(acme, _extension(acme, "1001"), username="acme-only", secret="acme-only-pw")
    do_create_voicemail_box(acme, number="8000", name="Acme sales", pin="97531")
    for name in LOOKUPS:
        for user in ("acme-only", "8000"):
            assert not_found(served(body(name, user, "beta.example.net"))), (name, user)
    # Nor with acme's realm as the digest realm: the domain picks the tenant.
    realm_trick = body(REGISTER, "acme-only", "beta.example.net")
    realm_trick = Captured(realm_trick.name, "POST", "/", realm_trick.headers,
                           realm_trick.body.replace(b"sip_auth_realm=beta.example.net",
                                                    b"sip_auth_realm=acme.example.net"))
    assert not_found(served(realm_trick))
    # Same number in both: each tenant's own secret, never the other's.
    _, beta_params = params_of(served(body(REGISTER, "1001", "beta.example.net")))
    assert beta_params["a1-hash"] == a1_hash("1001", "beta.example.net", "beta-1001-secret")
    assert not DirectoryEntry.objects.filter(account=beta, user_id__in=["acme-only", "8000"]).exists()


def test_removed_and_renumbered_users_disappear_with_the_write(acme_beta, committed):
    acme = acme_beta.c1
    assert b"a1-hash" in served(body(REGISTER, "1002"))
    with committed():
        do_remove_device(acme, _device(acme, "1002"))
    assert not DirectoryEntry.objects.filter(account=acme, user_id="1002",
                                             kind=DirectoryEntry.Kind.DEVICE).exists()
    _, params = params_of(served(body(REGISTER, "1002")))
    # The extension number still answers, with a hash no password produces.
    assert params["a1-hash"] != a1_hash("1002", "acme.example.net", "acme-1002-secret")
    with committed():
        do_update_extension(acme, _extension(acme, "1002"), number="1004")
    assert not_found(served(body(REGISTER, "1002")))
    assert not DirectoryEntry.objects.filter(account=acme, user_id="1002").exists()
    with committed():
        do_delete_extension(acme, _extension(acme, "1004"))
    assert not DirectoryEntry.objects.filter(account=acme, user_id="1004").exists()
    assert not_found(served(body(REGISTER, "1004")))


def test_disabled_device_and_extension_leave_the_index(acme_beta, committed):
    acme = acme_beta.c1
    with committed():
        do_update_device(acme, _device(acme, "1001"), enabled=False)
    assert not DirectoryEntry.objects.filter(account=acme, kind=DirectoryEntry.Kind.DEVICE,
                                             user_id="1001").exists()
    with committed():
        do_update_extension(acme, _extension(acme, "1002"), enabled=False)
    assert not DirectoryEntry.objects.filter(account=acme, user_id="1002").exists()
    assert not_found(served(body(REGISTER, "1002")))


def test_the_index_changes_inside_the_write_transaction(acme_beta, django_capture_on_commit_callbacks):
    """Rebuilt before commit, not after: a reader sees the new rows exactly when the
    write commits, never a committed write with old rows."""
    acme = acme_beta.c1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        do_update_device(acme, _device(acme, "1001"), new_secret="rotated")
        assert connection.in_atomic_block
        entry = DirectoryEntry.objects.get(account=acme, user_id="1001", kind=DirectoryEntry.Kind.DEVICE)
    assert callbacks  # the cache invalidation still waits for the commit
    from common.secrets import decrypt_secret

    assert decrypt_secret(entry.device_secret) == "rotated"


def test_a_rolled_back_write_leaves_the_index_unchanged(acme_beta):
    acme = acme_beta.c1
    before = rows(acme)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        do_update_extension(acme, _extension(acme, "1001"), name="Never committed", call_groups=["x"])
        do_remove_device(acme, _device(acme, "1002"))
        do_create_voicemail_box(acme, number="8000", name="Gone", pin="2580")
        assert rows(acme) != before
        raise Abort
    assert rows(acme) == before
    # A refused write (its own transaction rolls back) changes nothing either.
    with pytest.raises(ValidationError):
        do_create_extension(acme, number="1001", name="Duplicate")
    assert rows(acme) == before


def test_suspended_and_deleted_tenants_are_not_served_from_their_rows(acme_beta, committed):
    acme, master = acme_beta.c1, acme_beta.user("master_admin")
    captured = body(REGISTER, "1001")
    assert not not_found(served(captured))
    with committed():
        do_suspend_account(master, acme)
    assert DirectoryEntry.objects.filter(account=acme).exists()  # kept for the reactivation ...
    assert not_found(served(captured))  # ... but not served
    assert not_found(served(body("directory-voicemail-lookup-acme-1001", "1001")))
    with committed():
        do_reactivate_account(master, acme)
    assert not not_found(served(captured))
    with committed():
        do_suspend_account(master, acme_beta.r1)  # the reseller above acme
    assert not_found(served(captured))
    with committed():
        do_reactivate_account(master, acme_beta.r1)
        do_soft_delete_account(master, acme)
    assert not_found(served(captured))
    with committed():
        do_restore_account(master, acme)
    assert not not_found(served(captured))


def test_a_purged_account_leaves_no_rows(acme_beta, committed):
    acme, master = acme_beta.c1, acme_beta.user("master_admin")
    with connection.cursor() as cursor:
        # The fixture's PBX writes are not committed (the test's transaction): their
        # deferred foreign-key checks would block dropping the schema.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with committed():
        do_soft_delete_account(master, acme)
        do_purge_account(acme)
    assert not DirectoryEntry.objects.filter(account_id=acme.pk).exists()
    assert DirectoryEntry.objects.filter(account=acme_beta.c2).exists()


def test_the_index_holds_no_plaintext_secret(acme_beta):
    for account, prefix in ((acme_beta.c1, "acme"), (acme_beta.c2, "beta")):
        for entry in DirectoryEntry.objects.filter(account=account):
            assert entry.device_secret is None or f"{prefix}-" not in entry.device_secret


# --- cost: a cold lookup stays in the public schema -----------------------------------------

@pytest.mark.parametrize("name", [*LOOKUPS, "directory-sip_auth-invite-acme-1001",
                                  "directory-reverse-auth-lookup-acme-1002",
                                  "directory-message-count-after-register-acme-1001"])
def test_a_cold_lookup_never_enters_the_tenant_schema(acme_beta, name):
    do_update_extension(acme_beta.c1, _extension(acme_beta.c1, "1001"), call_groups=["sales"])
    schema = acme_beta.c1.schema_name
    with CaptureQueriesContext(connection) as captured:
        content = served(Captured(**vars(request(name))))
    assert not not_found(content)
    sql = [q["sql"] for q in captured]
    assert not [s for s in sql if schema in s or "pbx_" in s], sql
    queries = [s for s in sql if not s.startswith("SET search_path")]
    assert 1 <= len(queries) <= 2, queries


def test_the_group_list_comes_from_the_index(acme_beta):
    acme = acme_beta.c1
    for number in ("1001", "1002"):
        do_update_extension(acme, _extension(acme, number), call_groups=["sales"])
    do_update_extension(acme, _extension(acme, "1002"), enabled=False)
    captured = Captured(**vars(request("directory-group_call-1-group-sales")))
    with CaptureQueriesContext(connection) as queries:
        root = etree.fromstring(served(captured))
    assert [u.get("id") for u in root.xpath("//group/users/user")] == ["1001"]
    assert not [q for q in queries if acme.schema_name in q["sql"] or "pbx_" in q["sql"]]


# --- rebuilding by hand and after migrations ------------------------------------------------

def test_rebuild_command_restores_what_the_writes_built(acme_beta):
    before = {account.pk: rows(account) for account in (acme_beta.c1, acme_beta.c2)}
    DirectoryEntry.objects.all().delete()
    assert not_found(served(body(REGISTER, "1001")))
    call_command("rebuild_directory_index", verbosity=0)
    assert {account.pk: rows(account) for account in (acme_beta.c1, acme_beta.c2)} == before
    DirectoryEntry.objects.filter(account=acme_beta.c2).delete()
    call_command("rebuild_directory_index", "--account", str(acme_beta.c2.pk), verbosity=0)
    assert rows(acme_beta.c2) == before[acme_beta.c2.pk]


def test_migrate_all_rebuilds_the_index(acme_beta):
    """Tenant migrations may rewrite PBX rows behind the actions layer."""
    acme = acme_beta.c1
    with schema_context(acme.schema_name):
        Extension.objects.filter(number="1002").update(name="Renamed by a migration")
    call_command("migrate_all", verbosity=0)
    assert DirectoryEntry.objects.get(account=acme, user_id="1002",
                                      kind=DirectoryEntry.Kind.EXTENSION).name == "Renamed by a migration"


def test_rebuild_of_the_master_is_a_no_op(acme_beta):
    rebuild(acme_beta.master)
    assert not DirectoryEntry.objects.filter(account=acme_beta.master).exists()


def test_the_demo_phones_register_through_the_index(db):
    call_command("seed_demo", verbosity=0)
    for domain, label in (("acme.example.net", "acme"), ("beta.example.net", "beta")):
        for number in ("1001", "1005"):
            captured = body(REGISTER, number, domain)
            _, params = params_of(served(captured))
            assert params["a1-hash"] == a1_hash(number, domain, f"{label}-{number}-secret")
            assert rendered(captured, True) == rendered(captured, False)


def test_routing_facts_follow_forwards_follow_me_box_and_blocks(acme_beta, committed):
    """The fields the dialplan routes by, each changed through its action, are what the
    index hands the dialplan; and a cold dialplan fetch then reads nothing of the
    tenant's schema."""
    from pbx.actions import do_add_call_block, do_update_voicemail_box
    from pbx.actions.followme import do_set_follow_me

    acme = acme_beta.c1
    e1001, e1002 = _extension(acme, "1001"), _extension(acme, "1002")
    with committed():
        do_update_extension(acme, e1001, forward_busy=True, forward_busy_to=f"extension:{e1002.pk}",
                            do_not_disturb=True, call_waiting=False, ring_seconds=17)
        do_set_follow_me(acme, e1002, steps=[{"ring_seconds": 15, "targets": [f"extension:{e1001.pk}"]}])
        with schema_context(acme.schema_name):
            box = VoicemailBox.objects.get(extension=e1001)
        do_update_voicemail_box(acme, box, announcement_only=True)
        do_add_call_block(acme, pattern="+14165550123", direction="both", comment="spam <&>")
        do_add_call_block(acme, anonymous=True, direction="incoming")
    assert_routing_facts_match_schema(acme_beta)

    captured = request("dialplan-acme-1001-to-1002")
    with CaptureQueriesContext(connection) as queries:
        result = replay(captured)
    assert result.status_code == 200 and b"not found" not in result.content
    assert not [q["sql"] for q in queries if acme.schema_name in q["sql"]]
