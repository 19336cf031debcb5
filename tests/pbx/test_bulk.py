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


# --- existing extensions: error, update, skip ----------------------------------------------------


def outcomes(outcome) -> dict[int, tuple[str, list[str]]]:
    return {row.row: (row.outcome, row.changed) for row in outcome.report}


def extension_row(account, number: str):
    with schema_context(account.schema_name):
        return (Extension.objects.select_related("voicemail_box").prefetch_related("devices")
                .get(number=number))


def test_export_edit_one_name_and_import_with_update_changes_exactly_that(tree: Tree):
    actor = tree.user("r1_admin")
    bulk.import_extensions(tree.c1, GOOD, actor=actor)
    before = {n: extension_row(tree.c1, n) for n in ("1001", "1002", "1003")}
    secrets = {d.username: d.secret_encrypted for d in before["1001"].devices.all()}
    exported = "".join(bulk.export_csv(tree.c1))
    edited = exported.replace("1002,Bob Stone,", "1002,Robert Stone,")
    assert edited != exported
    events = AuditEvent.objects.count()
    with Signals() as seen:
        outcome = bulk.import_extensions(tree.c1, edited, actor=actor, existing="update")
    assert outcome.errors == [] and outcome.imported == 1
    assert outcomes(outcome) == {2: ("unchanged", []), 3: ("updated", ["name"]), 4: ("unchanged", [])}
    new = AuditEvent.objects.order_by("id")[events:]
    assert [(e.action, e.details.get("fields")) for e in new] == [
        ("extension.update", ["name"]), ("extension.import", None)]
    assert (new[1].details["updated"], new[1].details["unchanged"], new[1].details["existing"]) == (
        1, 2, "update")
    bob = extension_row(tree.c1, "1002")
    assert (bob.name, bob.voicemail_box.name) == ("Robert Stone", "Robert Stone")
    assert bob.voicemail_box.pin == before["1002"].voicemail_box.pin  # empty PIN cell: kept
    alice = extension_row(tree.c1, "1001")
    assert {d.username: d.secret_encrypted for d in alice.devices.all()} == secrets  # secrets kept
    assert alice.voicemail_box.pin == "4826"
    assert seen.tenant == [tree.c1.pk]
    assert "".join(bulk.export_csv(tree.c1)) == edited
    # The same file again changes nothing, writes nothing, audits nothing.
    events = AuditEvent.objects.count()
    again = bulk.import_extensions(tree.c1, edited, actor=actor, existing="update")
    assert {o for o, _ in outcomes(again).values()} == {"unchanged"} and again.imported == 0
    assert AuditEvent.objects.count() == events


def test_an_update_sets_the_files_columns_an_empty_cell_being_the_default_and_keeps_the_others(tree: Tree):
    actor = tree.user("c1_admin")
    extension(tree.c1, "1001", "Alice", email="alice@example.com", ring_seconds=40,
              outbound_caller_id_name="Alice B", call_groups=["sales"])
    text = "number,name,email,ring_seconds,call_groups,voicemail_pin\n1001,Alice Bell,,,,6241\n"
    outcome = bulk.import_extensions(tree.c1, text, actor=actor, existing="update")
    assert outcomes(outcome) == {2: ("updated", ["name", "email", "ring_seconds", "call_groups",
                                                 "voicemail_pin"])}
    alice = extension_row(tree.c1, "1001")
    assert (alice.name, alice.email, alice.ring_seconds, alice.call_groups) == ("Alice Bell", "", 25, [])
    assert alice.outbound_caller_id_name == "Alice B"  # not a column of the file: kept
    assert alice.voicemail_box.pin == "6241"
    event = AuditEvent.objects.filter(action="extension.update").get()
    assert (event.actor, sorted(event.details["fields"])) == (
        actor, ["call_groups", "email", "name", "ring_seconds", "voicemail_pin"])


def test_an_update_file_may_have_only_the_number_and_the_columns_it_changes(tree: Tree):
    actor = tree.user("c1_admin")
    extension(tree.c1, "1001", "Alice")
    text = "number,email\n1001,alice@example.com\n1003,carol@example.com\n"
    with pytest.raises(bulk.CsvRefused, match="Missing column"):
        bulk.import_extensions(tree.c1, text, actor=actor)  # creating needs the names
    outcome = bulk.import_extensions(tree.c1, text, actor=actor, existing="update", mode="best_effort")
    assert outcomes(outcome) == {2: ("updated", ["email"]), 3: ("failed", [])}
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [(3, "name", "This field is required.")]
    alice = extension_row(tree.c1, "1001")
    assert (alice.name, alice.email) == ("Alice", "alice@example.com")
    assert numbers(tree.c1) == ["1001"]


def test_an_update_changes_adds_and_names_phones_by_username_or_position(tree: Tree):
    actor = tree.user("c1_admin")
    alice = extension(tree.c1, "1001", "Alice")
    do_add_device(tree.c1, alice, label="Desk")
    do_add_device(tree.c1, alice, username="alice-mobile", label="Mobile")
    bob = extension(tree.c1, "1002", "Bob")
    do_add_device(tree.c1, bob)
    text = ("number,name,device1_label,device2_username,device2_label,device2_secret,device3_label\n"
            "1001,Alice,Desk phone,alice-mobile,Mobile,n3w-Secret-4567,Softphone\n"
            "1002,Bob,,1001,,,\n")
    outcome = bulk.import_extensions(tree.c1, text, actor=actor, existing="update", mode="best_effort")
    assert outcomes(outcome)[2] == ("updated", ["device1_label", "device2_secret", "device3_label"])
    with schema_context(tree.c1.schema_name):
        phones = {d.username: d for d in Device.objects.filter(extension__number="1001")}
        assert {name: d.label for name, d in phones.items()} == {
            "1001": "Desk phone", "alice-mobile": "Mobile", "1001-2": "Softphone"}
        assert decrypt_secret(phones["alice-mobile"].secret_encrypted) == "n3w-Secret-4567"
        assert Device.objects.get(username="1001").extension.number == "1001"  # not moved to Bob
    # Another extension's phone is not taken over.
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "device2_username")]


def test_all_or_nothing_with_one_bad_updated_row_leaves_everything_untouched(tree: Tree):
    actor = tree.user("c1_admin")
    extension(tree.c1, "1001", "Alice")
    extension(tree.c1, "1002", "Bob")
    before = "".join(bulk.export_csv(tree.c1))
    events = AuditEvent.objects.count()
    text = ("number,name,email,ring_seconds\n"
            "1001,Alice Bell,alice@example.com,30\n"
            "1002,Bob Stone,bob-at-example,30\n"  # the bad updated row
            "1003,Carol,,\n")
    with Signals() as seen:
        outcome = bulk.import_extensions(tree.c1, text, actor=actor, existing="update")
    assert outcome.imported == 0 and seen.tenant == []
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [
        (3, "email", "Enter a valid email address.")]
    assert outcomes(outcome) == {2: ("updated", ["name", "email", "ring_seconds"]),
                                 3: ("failed", []), 4: ("created", [])}
    assert "".join(bulk.export_csv(tree.c1)) == before
    assert AuditEvent.objects.count() == events
    # best_effort keeps the good rows around the bad one.
    kept = bulk.import_extensions(tree.c1, text, actor=actor, existing="update", mode="best_effort")
    assert kept.imported == 2 and numbers(tree.c1) == ["1001", "1002", "1003"]
    assert (extension_row(tree.c1, "1001").name, extension_row(tree.c1, "1002").name) == ("Alice Bell", "Bob")


def test_a_dry_run_reports_what_each_row_would_do_and_keeps_nothing(tree: Tree):
    actor = tree.user("c1_admin")
    extension(tree.c1, "1001", "Alice")
    extension(tree.c1, "1002", "Bob")
    text = "number,name\n1001,Alice\n1002,Bobby\n1003,Carol\n1003,Carol again\n"
    dry = bulk.import_extensions(tree.c1, text, actor=actor, existing="update", dry_run=True,
                                 mode="best_effort")
    assert outcomes(dry) == {2: ("unchanged", []), 3: ("updated", ["name"]), 4: ("created", []),
                             5: ("failed", [])}
    assert [(e.row, e.column, e.message) for e in dry.errors] == [
        (5, "number", "Extension 1003 is on row 4 already.")]
    assert dry.imported == 0 and numbers(tree.c1) == ["1001", "1002"]
    assert extension_row(tree.c1, "1002").name == "Bob"


def test_skip_leaves_existing_numbers_out_unread_and_error_refuses_them(tree: Tree):
    actor = tree.user("c1_admin")
    extension(tree.c1, "1001", "Alice")
    text = "number,name,enabled\n1001,Alice Bell,maybe\n1002,Bob,true\n"
    skipped = bulk.import_extensions(tree.c1, text, actor=actor, existing="skip")
    assert outcomes(skipped) == {2: ("skipped", []), 3: ("created", [])}
    assert skipped.errors == [] and skipped.imported == 1
    assert extension_row(tree.c1, "1001").name == "Alice" and numbers(tree.c1) == ["1001", "1002"]
    refused = bulk.import_extensions(tree.c1, "number,name\n1001,Alice Bell\n", actor=actor)
    assert [(e.row, e.column) for e in refused.errors] == [(2, "number")]
    assert outcomes(refused) == {2: ("failed", [])}


def test_an_import_that_only_skips_still_needs_the_right_to_write(tree: Tree):
    extension(tree.c1, "1001", "Alice")
    with pytest.raises(PermissionDenied):
        bulk.import_extensions(tree.c1, "number,name\n1001,A\n", actor=tree.user("r1_readonly"),
                               existing="skip")


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
