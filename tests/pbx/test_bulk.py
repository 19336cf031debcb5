"""Extensions in bulk (pbx/bulk.py): the CSV import through the actions, all or nothing or
best effort, every row's errors under their columns, one directory index rebuild per
import (pbx.signals.coalesce_changes), and the export that imports back as it is."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_tenants.utils import schema_context

from common.secrets import decrypt_secret
from fsconf.models import DirectoryEntry
from pbx import bulk
from pbx.actions import do_add_device, do_update_extension
from pbx.models import Device, Extension, VoicemailBox
from pbx.signals import coalesce_changes, sip_credentials_changed, tenant_config_changed
from tenants.models import AuditEvent, Job, Role, User
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension

HEADER = ("number,name,email,outbound_caller_id_name,voicemail_pin,voicemail_email,call_groups,"
          "device1_label,device1_secret,device2_label\n")
GOOD = (HEADER
        + "1001,Alice Bell,alice@example.com,Alice B,4826,alice-vm@example.com,sales support,Desk,"
          "s3cret-Alice-1234,Mobile\n"
        + "1002,Bob Stone,,,,,,,,\n"
        + "1003,Carol Hart,carol@example.com,,,,,Desk,,\n")
# Row 3: a two-digit number and a bad e-mail; row 4: a weak PIN; row 5: not a boolean.
BAD = (GOOD.replace("1002,Bob Stone,,", "12,Bob Stone,bob-at-example,")
       + "1004,Dan Weak,,,1234,,,,,\n")


class Signals:
    """Counts the change signals' sends (as their receivers see them)."""

    def __init__(self) -> None:
        self.tenant: list[int] = []
        self.usernames: list[list[str]] = []

    def __enter__(self) -> Signals:
        tenant_config_changed.connect(self._tenant, dispatch_uid="test-bulk-tenant")
        sip_credentials_changed.connect(self._credentials, dispatch_uid="test-bulk-credentials")
        return self

    def __exit__(self, *exc) -> None:
        tenant_config_changed.disconnect(dispatch_uid="test-bulk-tenant")
        sip_credentials_changed.disconnect(dispatch_uid="test-bulk-credentials")

    def _tenant(self, sender, account, **kwargs) -> None:
        self.tenant.append(account.pk)

    def _credentials(self, sender, account, usernames, **kwargs) -> None:
        self.usernames.append(list(usernames))


def numbers(account) -> list[str]:
    with schema_context(account.schema_name):
        return list(Extension.objects.order_by("number").values_list("number", flat=True))


def indexed(account) -> set[str]:
    return set(DirectoryEntry.objects.filter(account=account).values_list("user_id", flat=True))


# --- coalescing ----------------------------------------------------------------------------------


def test_changes_inside_a_block_are_sent_once_per_account_when_it_ends(tree: Tree):
    with Signals() as seen:
        with transaction.atomic(), coalesce_changes() as coalesced:
            alice = extension(tree.c1, "1001")
            extension(tree.c1, "1002")
            extension(tree.c2, "1001")
            do_add_device(tree.c1, alice)
            do_add_device(tree.c1, alice, username="alice-mobile")
            assert seen.tenant == [] and seen.usernames == []
            assert indexed(tree.c1) == set()  # not rebuilt yet
        assert sorted(seen.tenant) == sorted([tree.c1.pk, tree.c2.pk])
        assert seen.usernames == [["1001", "alice-mobile"]]
        assert coalesced.collected == 7 and coalesced.sent == 3
        assert {"1001", "1002", "alice-mobile"} <= indexed(tree.c1)
        # Outside a block, every write sends again.
        do_update_extension(tree.c1, alice, name="Alice B")
        assert seen.tenant.count(tree.c1.pk) == 2


def test_a_block_that_raises_sends_nothing_and_nested_blocks_join_the_outer_one(tree: Tree):
    with Signals() as seen:
        with pytest.raises(RuntimeError), transaction.atomic(), coalesce_changes():
            extension(tree.c1, "1001")
            raise RuntimeError("stop")
        assert seen.tenant == []
        with transaction.atomic(), coalesce_changes() as outer:
            with coalesce_changes() as inner:
                extension(tree.c1, "1001")
            assert inner is outer and seen.tenant == []
            extension(tree.c1, "1002")
        assert seen.tenant == [tree.c1.pk]


# --- import --------------------------------------------------------------------------------------


def test_an_import_makes_every_row_through_the_actions_and_rebuilds_the_index_once(tree: Tree):
    actor = tree.user("r1_admin")
    with Signals() as seen:
        outcome = bulk.import_extensions(tree.c1, GOOD, actor=actor, ip="192.0.2.7")
    assert (outcome.rows, outcome.imported, outcome.errors) == (3, 3, [])
    assert seen.tenant == [tree.c1.pk]
    assert numbers(tree.c1) == ["1001", "1002", "1003"]
    with schema_context(tree.c1.schema_name):
        alice = Extension.objects.get(number="1001")
        assert (alice.email, alice.outbound_caller_id_name, alice.call_groups) == (
            "alice@example.com", "Alice B", ["sales", "support"])
        box = VoicemailBox.objects.get(extension=alice)
        assert (box.pin, box.email) == ("4826", "alice-vm@example.com")
        devices = list(Device.objects.filter(extension=alice).order_by("username"))
        assert [(d.username, d.label) for d in devices] == [("1001", "Desk"), ("1001-2", "Mobile")]
        assert decrypt_secret(devices[0].secret_encrypted) == "s3cret-Alice-1234"
        assert not Device.objects.filter(extension__number="1002").exists()
        assert VoicemailBox.objects.filter(number="1002").exclude(pin="").exists()  # a random PIN
    assert {"1001", "1001-2", "1002", "1003"} <= indexed(tree.c1)
    events = AuditEvent.objects.filter(account=tree.c1)
    assert events.filter(action="extension.create", actor=actor, ip="192.0.2.7").count() == 3
    assert events.filter(action="device.create").count() == 3
    assert events.filter(action="extension.import").get().details["imported"] == 3


def test_all_or_nothing_reports_every_rows_errors_in_the_actions_words_and_keeps_nothing(tree: Tree):
    events = AuditEvent.objects.count()
    with Signals() as seen:
        outcome = bulk.import_extensions(tree.c1, BAD, actor=tree.user("r1_admin"))
    assert outcome.imported == 0 and seen.tenant == []
    found = {(e.row, e.column): e.message for e in outcome.errors}
    assert found == {
        (3, "number"): "An extension number has 3 to 6 digits.",
        (3, "email"): "Enter a valid email address.",
        (5, "voicemail_pin"): "The PIN must not be a straight run of digits such as 1234 or 4321.",
    }
    assert numbers(tree.c1) == [] and indexed(tree.c1) == set()
    assert AuditEvent.objects.count() == events


def test_rows_are_checked_against_the_rows_before_them(tree: Tree):
    extension(tree.c1, "1003")
    text = "number,name,device1_username\n1001,A,shared\n1001,B,\n1002,C,shared\n1003,D,\n"
    outcome = bulk.import_extensions(tree.c1, text, actor=tree.user("c1_admin"), mode="best_effort")
    assert outcome.imported == 1 and numbers(tree.c1) == ["1001", "1003"]
    by_row = {e.row: (e.column, e.message) for e in outcome.errors}
    assert by_row[3][0] == "number" and "1001" in by_row[3][1]
    assert by_row[4] == ("device1_username", "Device with this Username already exists.")
    assert by_row[5][0] == "number"


def test_best_effort_keeps_the_good_rows_and_a_dry_run_keeps_nothing(tree: Tree):
    actor = tree.user("c1_admin")
    dry = bulk.import_extensions(tree.c1, BAD, actor=actor, mode="best_effort", dry_run=True)
    assert (dry.imported, dry.failed_rows) == (0, 2) and numbers(tree.c1) == []
    with Signals() as seen:
        kept = bulk.import_extensions(tree.c1, BAD, actor=actor, mode="best_effort")
    assert (kept.imported, kept.failed_rows) == (2, 2)
    assert [(e.row, e.column) for e in kept.errors] == [(e.row, e.column) for e in dry.errors]
    assert numbers(tree.c1) == ["1001", "1003"]
    assert seen.tenant == [tree.c1.pk]
    assert {"1001", "1003"} <= indexed(tree.c1) and "1004" not in indexed(tree.c1)


def test_a_read_only_user_cannot_start_or_run_an_import(tree: Tree):
    with pytest.raises(PermissionDenied):
        bulk.start_import_job(tree.c1, GOOD, actor=tree.user("r1_readonly"), ip=None, dry_run=False,
                              mode="all_or_nothing")
    with pytest.raises(PermissionDenied):
        bulk.import_extensions(tree.c1, GOOD, actor=tree.user("r1_readonly"))
    assert numbers(tree.c1) == []


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("number,name,colour\n1001,A,red\n", "Unknown column(s): colour"),
    ("name\nA\n", "Missing column(s): number"),
    ("number,name,name\n1001,A,B\n", "named twice: name"),
    ("number,name\n", "no rows"),
    ('number,name\n1001,"A\n', "not a readable CSV"),
])
def test_a_file_that_cannot_be_imported_is_refused_whole(text: str, says: str):
    with pytest.raises(bulk.CsvRefused) as refused:
        bulk.parse_csv(text)
    assert says in str(refused.value)


def test_cells_that_cannot_be_read_are_row_errors(tree: Tree):
    text = "number,name,enabled,ring_seconds\n1001,A,maybe,ten\n1002,,true,30\n"
    outcome = bulk.import_extensions(tree.c1, text, actor=tree.user("c1_admin"), mode="best_effort")
    assert sorted((e.row, e.column, e.message) for e in outcome.errors) == [
        (2, "enabled", "Write true or false."), (2, "ring_seconds", "Write a whole number."),
        (3, "name", "This field is required.")]


# --- export --------------------------------------------------------------------------------------


def test_the_export_imports_into_another_account_as_it_is(tree: Tree):
    actor = tree.user("r1_admin")
    bulk.import_extensions(tree.c1, GOOD, actor=actor)
    with schema_context(tree.c1.schema_name):
        bob = Extension.objects.get(number="1002")
    do_update_extension(tree.c1, bob, enabled=False, ring_seconds=40, call_permission="internal")
    exported = "".join(bulk.export_csv(tree.c1))
    lines = exported.splitlines()
    assert lines[0] == ",".join(bulk.columns(2))
    assert len(lines) == 4 and "s3cret" not in exported and "4826" not in exported
    assert lines[1].startswith("1001,Alice Bell,alice@example.com,Alice B,,")
    outcome = bulk.import_extensions(tree.c2, exported, actor=tree.user("r2_admin"))
    assert outcome.errors == [] and outcome.imported == 3
    assert "".join(bulk.export_csv(tree.c2)) == exported


# --- the job -------------------------------------------------------------------------------------


def test_a_job_runs_once_again_after_a_worker_died_and_never_after_it_finished(tree: Tree):
    admin = tree.user("c1_admin")
    job = bulk.start_import_job(tree.c1, GOOD, actor=admin, ip="192.0.2.9", dry_run=False,
                                mode="all_or_nothing")
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, done=2)  # cut short
    bulk.run_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.errors, job.payload) == ("succeeded", 3, 3, [], "")
    assert job.result["imported"] == 3 and numbers(tree.c1) == ["1001", "1002", "1003"]
    assert AuditEvent.objects.filter(action="extension.create", ip="192.0.2.9").count() == 3
    bulk.run_job(job.pk)  # delivered again: finished, left alone
    assert numbers(tree.c1) == ["1001", "1002", "1003"]


def test_a_job_whose_creator_lost_the_right_to_write_fails_and_keeps_nothing(tree: Tree):
    admin = tree.user("c1_admin")
    job = bulk.start_import_job(tree.c1, GOOD, actor=admin, ip=None, dry_run=False, mode="all_or_nothing")
    User.objects.filter(pk=admin.pk).update(role=Role.READ_ONLY)
    bulk.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.result is None
    assert job.errors == [{"row": None, "column": None, "message": "Your role is read-only."}]
    assert numbers(tree.c1) == []
