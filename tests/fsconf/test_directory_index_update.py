"""The directory index kept per write: each PBX write's signal names what it changed of the
index (pbx.signals.IndexScope) and fsconf.directory_index.update rebuilds only that. The
rows it leaves must always be the rows a whole rebuild makes, after every kind of write;
writes of objects the index does not hold must not touch it; merged scopes never narrow."""

from __future__ import annotations

import contextlib
from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsconf.directory_index import _LOCK_SPACE, rebuild
from fsconf.models import DirectoryEntry, TenantFacts
from pbx.actions import (
    do_add_call_block,
    do_add_device,
    do_create_extension,
    do_create_voicemail_box,
    do_delete_extension,
    do_delete_voicemail_box,
    do_remove_call_block,
    do_remove_device,
    do_set_voicemail_pin,
    do_update_call_block,
    do_update_device,
    do_update_extension,
    do_update_voicemail_box,
)
from pbx.actions.featurecodes import do_feature_code
from pbx.actions.followme import do_delete_follow_me, do_set_follow_me
from pbx.models import Device, Extension, VoicemailBox
from pbx.signals import IndexScope, coalesce_changes, tenant_config_changed
from tests.fsconf.test_directory_index import STEPS, write

INDEX_TABLES = (DirectoryEntry._meta.db_table, TenantFacts._meta.db_table)


def state(account) -> tuple[list[tuple], object]:
    """Every column of the account's index rows (ids aside), in a stable order, and its
    call-block facts (None: no facts row)."""
    fields = [f.attname for f in DirectoryEntry._meta.concrete_fields if f.attname != "id"]
    rows = sorted(DirectoryEntry.objects.filter(account=account).values_list(*fields),
                  key=lambda row: (row[1], row[2]))
    facts = TenantFacts.objects.filter(account=account).values_list("call_blocks", flat=True).first()
    return rows, facts


def assert_as_rebuilt(*accounts) -> None:
    """The index rows are what a whole rebuild makes from the same tables (the rebuild is
    run in a savepoint and rolled back, so the rows kept are the writes' own)."""
    for account in accounts:
        kept = state(account)
        savepoint = transaction.savepoint()
        try:
            rebuild(account)
            rebuilt = state(account)
        finally:
            transaction.savepoint_rollback(savepoint)
        assert kept == rebuilt, account.name
        assert state(account) == kept


def ext(account, number) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


def dev(account, username) -> Device:
    with schema_context(account.schema_name):
        return Device.objects.get(username=username)


def box(account, number) -> VoicemailBox:
    with schema_context(account.schema_name):
        return VoicemailBox.objects.get(number=number)


def block(account, pattern):
    from pbx.models import CallBlock

    with schema_context(account.schema_name):
        return CallBlock.objects.get(pattern=pattern)


def writes(a):
    """A long run of real writes to account ``a`` (acme), each named; every kind of write
    that feeds the index, in the orders that move rows between extensions and kinds."""
    ref = lambda number: f"extension:{ext(a, number).pk}"  # noqa: E731
    return [
        ("create 1003", lambda: do_create_extension(a, number="1003", name="Carol", call_groups=["sales"])),
        ("device 1003", lambda: do_add_device(a, ext(a, "1003"), secret="carol-desk")),
        ("second device 1003", lambda: do_add_device(a, ext(a, "1003"), username="carol-soft", secret="s")),
        ("third device 1003", lambda: do_add_device(a, ext(a, "1003"), username="1003-3", secret="t")),
        ("disable a sibling", lambda: do_update_device(a, dev(a, "carol-soft"), enabled=False)),
        ("enable it again", lambda: do_update_device(a, dev(a, "carol-soft"), enabled=True)),
        ("rotate a secret", lambda: do_update_device(a, dev(a, "1003"), new_secret="rotated")),
        ("remove a sibling", lambda: do_remove_device(a, dev(a, "1003-3"))),
        ("rename 1003", lambda: do_update_extension(a, ext(a, "1003"), name="Carol B", ring_seconds=40,
                                                    call_permission="international")),
        ("renumber 1003 to 1004", lambda: do_update_extension(a, ext(a, "1003"), number="1004")),
        ("pin of 1004's box", lambda: do_set_voicemail_pin(a, box(a, "1004"), pin="97531")),
        ("1004's box fields", lambda: do_update_voicemail_box(a, box(a, "1004"), announcement_only=True,
                                                              email="c@example.com", skip_instructions=True)),
        ("voicemail off 1002", lambda: do_update_extension(a, ext(a, "1002"), voicemail_enabled=False)),
        ("1002's box disabled", lambda: do_update_voicemail_box(a, box(a, "1002"), enabled=False)),
        ("1002's box deleted", lambda: do_delete_voicemail_box(a, box(a, "1002"))),
        ("voicemail on 1002 (a new box)", lambda: do_update_extension(a, ext(a, "1002"),
                                                                      voicemail_enabled=True)),
        ("standalone box 8000", lambda: do_create_voicemail_box(a, number="8000", name="Sales", pin="2580")),
        ("second standalone box", lambda: do_create_voicemail_box(a, number="8001", name="Help", pin="2580")),
        ("box 8000 fields", lambda: do_update_voicemail_box(a, box(a, "8000"), email="s@example.com",
                                                            delete_after_email=True)),
        ("renumber box 8000", lambda: do_update_voicemail_box(a, box(a, "8000"), number="8100")),
        ("pin of box 8100", lambda: do_set_voicemail_pin(a, box(a, "8100"), pin="97531")),
        ("box 8001 disabled", lambda: do_update_voicemail_box(a, box(a, "8001"), enabled=False)),
        ("device named like a box", lambda: do_add_device(a, ext(a, "1001"), username="8001", secret="x")),
        ("forwards of 1001", lambda: do_update_extension(a, ext(a, "1001"), forward_busy=True,
                                                         forward_busy_to=ref("1002"), do_not_disturb=True)),
        ("feature code *074", lambda: do_feature_code(a, ext(a, "1001"), "dnd_off")),
        ("feature code *071", lambda: do_feature_code(a, ext(a, "1001"), "all_off")),
        ("follow-me on 1002", lambda: do_set_follow_me(a, ext(a, "1002"), steps=[
            {"ring_seconds": 15, "targets": [ref("1001")]}])),
        ("follow-me off", lambda: do_set_follow_me(a, ext(a, "1002"), enabled=False, steps=[
            {"ring_seconds": 15, "targets": [ref("1001")]}])),
        ("follow-me on again", lambda: do_set_follow_me(a, ext(a, "1002"), steps=[
            {"ring_seconds": 20, "targets": [ref("1004")]}])),
        ("follow-me deleted", lambda: do_delete_follow_me(a, ext(a, "1002"))),
        ("call block", lambda: do_add_call_block(a, pattern="+14165550123", direction="both")),
        ("anonymous block", lambda: do_add_call_block(a, anonymous=True)),
        ("block changed", lambda: do_update_call_block(a, block(a, "+14165550123"), comment="spam")),
        ("block removed", lambda: do_remove_call_block(a, block(a, "+14165550123"))),
        ("disable 1001", lambda: do_update_extension(a, ext(a, "1001"), enabled=False)),
        ("a device of a disabled extension", lambda: do_add_device(a, ext(a, "1001"), username="1001-2",
                                                                   secret="y")),
        ("enable 1001", lambda: do_update_extension(a, ext(a, "1001"), enabled=True)),
        ("swap numbers: 1001 to 1005", lambda: do_update_extension(a, ext(a, "1001"), number="1005")),
        ("1004 to 1001", lambda: do_update_extension(a, ext(a, "1004"), number="1001")),
        ("1005 to 1003", lambda: do_update_extension(a, ext(a, "1005"), number="1003")),
        ("delete an extension with devices and a box", lambda: do_delete_extension(a, ext(a, "1001"))),
        ("delete standalone box", lambda: do_delete_voicemail_box(a, box(a, "8100"))),
        ("a new extension takes a freed number", lambda: do_create_extension(a, number="1001", name="New")),
    ]


def test_after_every_write_the_index_is_what_a_rebuild_makes(acme_beta):
    acme, beta = acme_beta.c1, acme_beta.c2
    beta_rows = state(beta)
    assert_as_rebuilt(acme, beta)
    for name, action in writes(acme):
        action()
        try:
            assert_as_rebuilt(acme)
        except AssertionError as exc:
            raise AssertionError(f"after {name!r}: {exc}") from exc
    assert state(beta) == beta_rows  # another account's rows never move


def test_writes_coalesced_leave_what_a_rebuild_makes(acme_beta):
    """Many writes in one coalesced block (a CSV import): one send with the union."""
    acme = acme_beta.c1
    with transaction.atomic(), coalesce_changes() as collected:
        e = do_create_extension(acme, number="1003", name="Carol")
        do_add_device(acme, e, secret="carol")
        do_update_extension(acme, ext(acme, "1002"), name="Bob B", call_groups=["x"])
        do_remove_device(acme, dev(acme, "1001"))
        do_create_voicemail_box(acme, number="8000", name="Sales", pin="2580")
        do_add_call_block(acme, pattern="+14165550123")
    assert collected.sent == 2  # tenant_config_changed once, sip_credentials_changed once
    assert_as_rebuilt(acme)


def test_a_csv_import_leaves_what_a_rebuild_makes(acme_beta):
    """The import's one send names its rows' extensions, the new and the updated."""
    from pbx import bulk

    acme = acme_beta.c1
    text = ("number,name,email,voicemail_pin,voicemail_email,call_groups,device1_label,device1_secret,"
            "device2_label\n"
            "1001,Alice Renamed,,,a-vm@example.com,sales,Desk,s3cret-Alice-1234,Mobile\n"
            "1003,Carol,,,,,Desk,,\n"
            "1004,Dan,,,,support,,,\n")
    outcome = bulk.import_extensions(acme, text, actor=acme_beta.user("c1_admin"), existing="update")
    assert outcome.imported == 3, outcome
    assert DirectoryEntry.objects.filter(account=acme, user_id="1004").exists()
    assert_as_rebuilt(acme)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=10))
def test_after_any_random_writes_the_index_is_what_a_rebuild_makes(acme_beta, steps):
    for step in steps:
        with contextlib.suppress(ValidationError):
            write(acme_beta, step)
        assert_as_rebuilt(acme_beta.c1, acme_beta.c2)


# --- writes only what they changed ----------------------------------------------------------

def _index_sql(queries) -> list[str]:
    """The statements that read or write the index, or take its lock."""
    return [q["sql"] for q in queries if any(table in q["sql"] for table in INDEX_TABLES)
            or str(_LOCK_SPACE) in q["sql"]]


def test_writes_of_objects_outside_the_index_issue_no_index_sql(acme_beta):
    from pbx.actions import (
        do_add_schedule_event,
        do_create_conference_room,
        do_create_ivr,
        do_create_ring_group,
        do_create_schedule,
        do_set_ivr_options,
        do_set_ring_group_members,
        do_update_ring_group,
        do_update_schedule,
    )
    from pbx.actions.media import do_create_moh_group

    acme = acme_beta.c1
    alice = f"extension:{ext(acme, '1001').pk}"
    with CaptureQueriesContext(connection) as queries:
        schedule = do_create_schedule(acme, name="Office")
        do_update_schedule(acme, schedule, timezone="Europe/Paris")
        do_add_schedule_event(acme, schedule, name="am", repeat="weekly", weekdays=[1, 2, 3],
                              start_time=time(8, 30), end_time=time(12, 30))
        group = do_create_ring_group(acme, number="7000", name="Sales")
        do_set_ring_group_members(acme, group, [(alice, None, True)])
        do_update_ring_group(acme, group, name="Sales team")
        ivr = do_create_ivr(acme, name="Main")
        do_set_ivr_options(acme, ivr, {"1": alice})
        do_create_conference_room(acme, number="3000", name="Board", participant_pin="4826")
        do_create_moh_group(acme, name="Jazz")
    assert len(queries) > 20  # the writes ran
    assert _index_sql(queries) == []


def test_a_write_to_one_extension_leaves_the_other_rows_alone(acme_beta):
    """Only 1001's rows are replaced (new ids); 1002's rows are the same rows."""
    acme = acme_beta.c1
    other = dict(DirectoryEntry.objects.filter(account=acme).exclude(
        extension_id=ext(acme, "1001").pk).values_list("id", "user_id"))
    mine = set(DirectoryEntry.objects.filter(account=acme, extension_id=ext(acme, "1001").pk)
               .values_list("id", flat=True))
    with CaptureQueriesContext(connection) as queries:
        do_update_extension(acme, ext(acme, "1001"), name="Alice B")
    assert dict(DirectoryEntry.objects.filter(account=acme).exclude(
        extension_id=ext(acme, "1001").pk).values_list("id", "user_id")) == other
    assert not mine & set(DirectoryEntry.objects.filter(account=acme).values_list("id", flat=True))
    sql = _index_sql(queries)
    assert any(str(_LOCK_SPACE) in s for s in sql), sql  # what the other test looks for
    assert not [s for s in sql if s.startswith("DELETE") and "extension_id" not in s
                and TenantFacts._meta.db_table not in s], sql
    assert_as_rebuilt(acme)


def test_an_empty_scope_runs_nothing_and_whole_is_the_default(acme_beta):
    from fsconf.directory_index import update

    acme = acme_beta.c1
    with CaptureQueriesContext(connection) as queries:
        update(acme, IndexScope.NOTHING)
    assert list(queries) == []
    heard = []

    def receiver(sender, **named):
        heard.append(named["index"])

    tenant_config_changed.connect(receiver)
    try:
        tenant_config_changed.send(sender=None, account=acme)
    finally:
        tenant_config_changed.disconnect(receiver)
    assert heard == [IndexScope.WHOLE]


# --- scopes merge without narrowing ---------------------------------------------------------

def test_scopes_merge_without_narrowing():
    one, two = IndexScope.extension(1), IndexScope.extension(2, None)
    assert (one | two).extensions == {1, 2}
    assert one | IndexScope.WHOLE == IndexScope.WHOLE
    assert IndexScope.WHOLE | one == IndexScope.WHOLE
    assert (one | IndexScope.BOXES | IndexScope.BLOCKS) == IndexScope(extensions=frozenset({1}), boxes=True,
                                                                      blocks=True)
    assert IndexScope.NOTHING | one == one
    assert IndexScope.NOTHING.empty and not one.empty and not IndexScope.WHOLE.empty

    class Box:
        def __init__(self, extension_id):
            self.extension_id = extension_id

    assert IndexScope.box(Box(7)) == IndexScope.extension(7)
    assert IndexScope.box(Box(None)) == IndexScope.BOXES


@pytest.mark.parametrize(("sends", "merged"), [
    ([IndexScope.extension(1), IndexScope.extension(2)], IndexScope.extension(1, 2)),
    ([IndexScope.extension(1), None], IndexScope.WHOLE),  # a send naming nothing is the whole
    ([None, IndexScope.extension(1)], IndexScope.WHOLE),
    ([IndexScope.WHOLE, IndexScope.NOTHING], IndexScope.WHOLE),
    ([IndexScope.NOTHING, IndexScope.NOTHING], IndexScope.NOTHING),
    ([IndexScope.BOXES, IndexScope.extension(3), IndexScope.BLOCKS, IndexScope.NOTHING],
     IndexScope(extensions=frozenset({3}), boxes=True, blocks=True)),
])
def test_coalesced_sends_merge_their_scopes(tree, sends, merged):
    heard = []

    def receiver(sender, account, index, **named):
        heard.append((account.pk, index))

    tenant_config_changed.connect(receiver)
    try:
        with transaction.atomic(), coalesce_changes():
            for scope in sends:
                named = {} if scope is None else {"index": scope}
                tenant_config_changed.send(sender=None, account=tree.c1, **named)
    finally:
        tenant_config_changed.disconnect(receiver)
    assert heard == [(tree.c1.pk, merged)]
