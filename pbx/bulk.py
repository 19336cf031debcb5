"""Extensions in bulk: a CSV of extensions (with their voicemail box, caller ID and
phones) imported as a background job, and the same columns exported.

Every row goes through the same actions as the admin and the API (do_create_extension,
do_update_voicemail_box, do_add_device): the same validation, role check and audit
events, with the job's creator as the actor. The rows run in ONE transaction, each in a
savepoint of its own, so every row is validated (against the rows before it) and all
row errors are reported, not only the first:

- ``all_or_nothing`` (the default): any row error rolls the whole import back;
- ``best_effort``: rows with errors are left out, the others are kept;
- ``dry_run``: either mode, always rolled back: what the import would do.

A row whose number is an existing extension's is, as ``existing`` says:

- ``error`` (the default): a row error, as a single create of that number would be;
- ``update``: the extension is changed through the same actions as a single update
  (do_update_extension, do_update_voicemail_box, do_update_device / do_add_device), in
  the columns the file has and only where the value differs, so an unchanged row writes
  and audits nothing. A cell means what it means on create: an empty one is the field's
  default (empty text, the model's default switch or number), so the same file makes the
  same extensions whether they existed or not; except secrets (``voicemail_pin``,
  ``deviceN_secret``), which the export leaves empty: there an empty cell keeps the
  current one. ``deviceN_username`` names the phone to change (one of this extension's;
  another extension's is an error); empty, it is the extension's N-th phone in the
  export's order (by username). A phone missing is added; none is removed;
- ``skip``: the row is left out unread.

Each row's outcome (created, updated with the columns changed, unchanged, skipped,
failed) is reported, also for a dry run.

The actions' change signals are coalesced over the import (pbx.signals.coalesce_changes):
the account's public directory index is rebuilt once, when the import commits, instead
of once per row. Progress (``done`` of ``total``) is written from a connection of its
own (``Progress``), so a caller polling the job sees it move while the import's own
transaction is still open.

Row numbers are the spreadsheet's: row 1 is the header, the first extension is row 2.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from common.secrets import decrypt_secret
from pbx.actions.extensions import (
    DEVICE_FIELDS,
    do_add_device,
    do_create_extension,
    do_update_device,
    do_update_extension,
)
from pbx.actions.voicemail import do_update_voicemail_box
from pbx.models import Device, Extension, VoicemailBox
from pbx.signals import coalesce_changes
from tenants.actions import record
from tenants.models import Account, Job, User

log = logging.getLogger(__name__)

MODES = ("all_or_nothing", "best_effort")
# What a row whose number is an existing extension's does.
EXISTING = ("error", "update", "skip")
MAX_ROWS = 10_000
MAX_BYTES = 4 * 1024 * 1024
MAX_DEVICES = 9
# Progress is written at most this often (seconds): often enough to watch, rarely
# enough to cost nothing beside the rows.
PROGRESS_INTERVAL = 0.2

# Columns in the order the export writes them. Each maps to an argument of the
# extension's action, except voicemail_email (the box's) and the device columns.
EXTENSION_COLUMNS = (
    "number", "name", "email", "outbound_caller_id_name", "outbound_caller_id_number",
    "emergency_callback_number", "emergency_address", "language", "timezone", "ring_seconds",
    "call_permission", "allow_premium_rate", "call_groups", "call_waiting", "hidden_from_directory",
    "enabled", "voicemail_enabled", "voicemail_pin", "voicemail_email",
)
DEVICE_PARTS = ("username", "secret", "label", "mac_address", "vendor", "model", "enabled")
REQUIRED = ("number", "name")
BOOLEAN = frozenset({"allow_premium_rate", "call_waiting", "hidden_from_directory", "enabled",
                     "voicemail_enabled"})
INTEGER = frozenset({"ring_seconds"})
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_DEVICE_COLUMN = re.compile(r"^device([1-9])_(" + "|".join(DEVICE_PARTS) + r")$")
_GROUP_SEPARATORS = re.compile(r"[\s;,]+")


def device_columns(n: int) -> tuple[str, ...]:
    return tuple(f"device{n}_{part}" for part in DEVICE_PARTS)


def columns(devices: int = 1) -> tuple[str, ...]:
    """The header of an export with ``devices`` device column groups (at least one)."""
    return (*EXTENSION_COLUMNS, *(c for n in range(1, max(devices, 1) + 1) for c in device_columns(n)))


class CsvRefused(ValueError):
    """The file as a whole cannot be imported (not CSV, unknown or missing columns, too
    big): the request is refused before any job starts."""


@dataclass
class ParsedCsv:
    header: list[str]
    rows: list[dict[str, str]]
    devices: int  # how many device column groups the header has


def parse_csv(text: str, existing: str = "error") -> ParsedCsv:
    """The header checked and the rows read (values stripped). Raises CsvRefused. A file
    that updates (``existing="update"``) needs only ``number``: it may change one column;
    a row of it that creates still needs a name."""
    if len(text.encode()) > MAX_BYTES:
        raise CsvRefused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    text = text.lstrip("\ufeff")  # a spreadsheet's byte-order mark
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = [name.strip().lower() for name in next(reader, [])]
        records = []
        for record_ in reader:
            if not any(value.strip() for value in record_):
                continue  # a blank line (spreadsheets leave them at the end)
            records.append(record_)
            if len(records) > MAX_ROWS:
                raise CsvRefused(f"The file has more than {MAX_ROWS:,} rows; split it.")
    except csv.Error as exc:
        raise CsvRefused(f"This is not a readable CSV file: {exc}.") from exc
    if not header or header == [""]:
        raise CsvRefused("The file is empty: the first row must name the columns.")
    unknown = [name for name in header if name not in EXTENSION_COLUMNS and not _DEVICE_COLUMN.match(name)]
    if unknown:
        raise CsvRefused(f"Unknown column(s): {', '.join(unknown)}. Known: {', '.join(columns(1))} "
                         f"(device1_… to device{MAX_DEVICES}_… for more phones).")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CsvRefused(f"Column(s) named twice: {', '.join(repeated)}.")
    missing = [name for name in (("number",) if existing == "update" else REQUIRED) if name not in header]
    if missing:
        raise CsvRefused(f"Missing column(s): {', '.join(missing)}.")
    if not records:
        raise CsvRefused("The file has a header but no rows.")
    rows = []
    for values in records:
        row = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}
        if len(values) > len(header):
            row["__extra__"] = "1"
        rows.append(row)
    devices = max((int(m.group(1)) for name in header if (m := _DEVICE_COLUMN.match(name))), default=0)
    return ParsedCsv(header, rows, devices)


@dataclass
class RowError:
    row: int
    column: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class RowPlan:
    """One row's arguments for the actions, or the values that could not be read."""

    number: str = ""
    name: str = ""
    extension: dict[str, Any] = field(default_factory=dict)
    voicemail_email: str | None = None
    devices: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _value(column: str, raw: str, plan: RowPlan) -> Any:
    if column in BOOLEAN or column.endswith("_enabled"):
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        plan.errors[column] = "Write true or false."
        return None
    if column in INTEGER:
        if not raw.isdigit():
            plan.errors[column] = "Write a whole number."
            return None
        return int(raw)
    if column == "call_groups":
        return [group for group in _GROUP_SEPARATORS.split(raw) if group]
    return raw


def plan_row(row: dict[str, str], *, creating: bool = True) -> RowPlan:
    """Read one row's cells. An empty cell is left out, so the action's default applies
    (a random voicemail PIN, a generated SIP secret, the device username from the
    number); a device is made when any of its cells is filled. A row that updates
    needs a name only when the file has the column."""
    plan = RowPlan(number=row.get("number", ""), name=row.get("name", ""))
    if "__extra__" in row:
        plan.errors[""] = "This row has more cells than the header has columns."
    for column in REQUIRED:
        if not row.get(column) and (creating or column in row):
            plan.errors[column] = "This field is required."
    for column in EXTENSION_COLUMNS:
        raw = row.get(column, "")
        if column in REQUIRED or not raw:
            continue
        value = _value(column, raw, plan)
        if column == "voicemail_email":
            plan.voicemail_email = value
        else:
            plan.extension[column] = value
    for n in range(1, MAX_DEVICES + 1):
        cells = {part: row.get(f"device{n}_{part}", "") for part in DEVICE_PARTS}
        if not any(cells.values()):
            continue
        device = {part: _value(f"device{n}_{part}", raw, plan) for part, raw in cells.items() if raw}
        plan.devices.append((n, device))
    return plan


def _errors(row: int, exc: ValidationError, column_of: dict[str, str | None]) -> list[RowError]:
    """The action's own messages, each under the CSV column of the field it names."""
    if not hasattr(exc, "error_dict"):
        return [RowError(row, None, message) for message in exc.messages]
    found = []
    for name, messages in exc.message_dict.items():
        column = None if name == NON_FIELD_ERRORS else column_of.get(name, name)
        found += [RowError(row, column, message) for message in messages]
    return found


_EXTENSION_COLUMN_OF: dict[str, str | None] = {name: name for name in EXTENSION_COLUMNS}
_BOX_COLUMN_OF: dict[str, str | None] = {"email": "voicemail_email", "delete_after_email": "voicemail_email",
                                         "pin": "voicemail_pin"}


def _device_column_of(n: int) -> dict[str, str | None]:
    return {**{part: f"device{n}_{part}" for part in DEVICE_PARTS}, "secret_encrypted": f"device{n}_secret",
            "extension": None}


class _Step:
    """Which column map a ValidationError of the action being called is read with."""

    def __init__(self) -> None:
        self.now: dict[str, str | None] = _EXTENSION_COLUMN_OF


@dataclass
class RowOutcome:
    """What one row did (or, when nothing is kept, would have done)."""

    row: int
    number: str
    outcome: str  # created, updated, unchanged, skipped, failed
    changed: list[str] = field(default_factory=list)  # the CSV columns an update changed
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "number": self.number, "outcome": self.outcome, "changed": self.changed}


def _create(account: Account, plan: RowPlan, step: _Step, *, actor: User | None, ip: str | None) -> None:
    """Make the row's extension, box settings and devices (the current savepoint's)."""
    fields = dict(plan.extension)
    pin = fields.pop("voicemail_pin", None)
    extension = do_create_extension(account, number=plan.number, name=plan.name, actor=actor, ip=ip,
                                    voicemail_pin=pin, **fields)
    if plan.voicemail_email:
        step.now = _BOX_COLUMN_OF
        with schema_context(account.schema_name):
            box = VoicemailBox.objects.filter(extension=extension).first()
        if box is None:
            raise ValidationError({"email": ["Turn voicemail on to give the box an e-mail address."]})
        do_update_voicemail_box(account, box, actor=actor, ip=ip, email=plan.voicemail_email)
    for n, device in plan.devices:
        step.now = _device_column_of(n)
        device = dict(device)
        do_add_device(account, extension, username=device.pop("username", None),
                      secret=device.pop("secret", None), actor=actor, ip=ip, **device)


def _default(model, name: str) -> Any:
    return model._meta.get_field(name).get_default()


# Extension columns an update compares and sets (number is the key, the PIN and the box's
# e-mail are handled apart).
_UPDATED_COLUMNS = tuple(c for c in EXTENSION_COLUMNS
                         if c not in ("number", "voicemail_pin", "voicemail_email"))


def _update(account: Account, extension: Extension, row: dict[str, str], plan: RowPlan, step: _Step, *,
            actor: User | None, ip: str | None) -> list[str]:
    """Change ``extension`` to what the row says, in the columns the file has and only
    where the value differs; returns the columns changed (none: nothing written)."""
    changed_columns: list[str] = []
    fields: dict[str, Any] = {}
    values = {"name": plan.name, **plan.extension}
    for column in _UPDATED_COLUMNS:
        if column in row:
            value = values.get(column, _default(Extension, column))
            if value != getattr(extension, column):
                fields[column] = value
    with schema_context(account.schema_name):
        box = VoicemailBox.objects.filter(extension=extension).first()
        devices = list(Device.objects.filter(extension=extension).order_by("username"))
    pin = plan.extension.get("voicemail_pin")
    if pin and (box is None or box.pin != pin):
        changed_columns.append("voicemail_pin")
    else:
        pin = None
    if fields or pin:
        extension = do_update_extension(account, extension, actor=actor, ip=ip, voicemail_pin=pin, **fields)
        changed_columns += list(fields)
        with schema_context(account.schema_name):
            box = VoicemailBox.objects.filter(extension=extension).first()
    if "voicemail_email" in row:
        email = plan.voicemail_email or ""
        step.now = _BOX_COLUMN_OF
        if box is None and email:
            raise ValidationError({"email": ["Turn voicemail on to give the box an e-mail address."]})
        if box is not None and box.email != email:
            do_update_voicemail_box(account, box, actor=actor, ip=ip, email=email)
            changed_columns.append("voicemail_email")
    for n, cells in plan.devices:
        step.now = _device_column_of(n)
        given = [f"device{n}_{part}" for part in cells]
        cells = dict(cells)
        username = cells.pop("username", None)
        secret = cells.pop("secret", None)
        if username:
            device = next((d for d in devices if d.username == username), None)
        else:
            device = devices[n - 1] if n <= len(devices) else None
        if device is None:
            do_add_device(account, extension, username=username, secret=secret, actor=actor, ip=ip, **cells)
            changed_columns += given  # a phone added: every cell of it given
            continue
        device_fields = {}
        for part in DEVICE_FIELDS:
            if f"device{n}_{part}" in row:
                value = cells.get(part, _default(Device, part))
                if value != getattr(device, part):
                    device_fields[part] = value
        if secret and decrypt_secret(device.secret_encrypted) == secret:
            secret = None
        if device_fields or secret:
            do_update_device(account, device, actor=actor, ip=ip, new_secret=secret, **device_fields)
            changed_columns += [f"device{n}_{part}" for part in device_fields]
            changed_columns += [f"device{n}_secret"] if secret else []
    order = {name: i for i, name in enumerate(row)}
    return sorted(changed_columns, key=lambda column: order.get(column, len(order)))


def import_row(account: Account, number: int, row: dict[str, str], *, actor: User | None,
               ip: str | None, existing: str = "error") -> RowOutcome:
    """One row through the actions, in a savepoint: a row with an error leaves nothing
    behind. A new number is created; an existing extension's is, as ``existing`` says,
    an error (the create's own), updated or skipped."""
    found = None
    if existing != "error" and row.get("number"):
        with schema_context(account.schema_name):
            found = Extension.objects.filter(number=row["number"]).first()
    if found is not None and existing == "skip":
        return RowOutcome(number, row["number"], "skipped")
    plan = plan_row(row, creating=found is None)
    if plan.errors:
        return RowOutcome(number, plan.number, "failed", errors=[
            RowError(number, column or None, message) for column, message in plan.errors.items()])
    step = _Step()
    try:
        with transaction.atomic():
            if found is None:
                _create(account, plan, step, actor=actor, ip=ip)
                return RowOutcome(number, plan.number, "created")
            changed_columns = _update(account, found, row, plan, step, actor=actor, ip=ip)
            return RowOutcome(number, plan.number, "updated" if changed_columns else "unchanged",
                              changed=changed_columns)
    except ValidationError as exc:
        return RowOutcome(number, plan.number, "failed", errors=_errors(number, exc, step.now))
    except (DataError, IntegrityError):
        # A value the database refuses, or a number taken by a concurrent write.
        return RowOutcome(number, plan.number, "failed", errors=[RowError(
            number, None, "A value is too large or malformed for its field, or was taken meanwhile.")])


class Progress:
    """``done`` of ``total`` written to the job's row from a second database connection,
    committed at once: the import's own transaction stays open until its last row, and a
    caller polling the job must see it move meanwhile. Written at most every
    PROGRESS_INTERVAL seconds."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.last = 0.0
        self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def _write(self, sql: str, params: list[Any]) -> None:
        try:
            with self.side.cursor() as cursor:
                cursor.execute(sql, params)
        except Exception:
            # Progress is a courtesy: the import goes on without it.
            log.exception("could not write the progress of job %s", self.job_id)

    def start(self, total: int) -> None:
        self._write(f"UPDATE {Job._meta.db_table} SET state = %s, total = %s, done = 0, started_at = %s "
                    "WHERE id = %s", [Job.State.RUNNING, total, timezone.now(), self.job_id])
        self.last = time.monotonic()

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_INTERVAL:
            self._write(f"UPDATE {Job._meta.db_table} SET done = %s WHERE id = %s", [done, self.job_id])
            self.last = now

    def close(self) -> None:
        self.side.close()


class _RolledBack(Exception):
    """Leaves the import's transaction without committing it."""


@dataclass
class Outcome:
    rows: int
    errors: list[RowError]
    imported: int  # rows kept that wrote something (created or updated); 0 when nothing was kept
    report: list[RowOutcome] = field(default_factory=list)
    existing: str = "error"

    @property
    def failed_rows(self) -> int:
        return len({error.row for error in self.errors})

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.report if row.outcome == outcome)


def import_extensions(account: Account, text: str, *, actor: User | None, ip: str | None = None,
                      dry_run: bool = False, mode: str = "all_or_nothing", existing: str = "error",
                      progress: Progress | None = None) -> Outcome:
    """Import the CSV ``text`` into ``account`` (the work of a job; callable directly).
    Raises CsvRefused for a file that cannot be imported at all, PermissionDenied when
    ``actor`` may not write here."""
    from pbx.actions.crud import authorize

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if existing not in EXISTING:
        raise ValueError(f"existing must be one of {EXISTING}")
    authorize(actor, account)  # also when no row reaches an action (every one skipped)
    parsed = parse_csv(text, existing)
    total = len(parsed.rows)
    if progress:
        progress.start(total)
    report: list[RowOutcome] = []
    first_row_of: dict[str, int] = {}
    try:
        with transaction.atomic(), coalesce_changes():
            for index, row in enumerate(parsed.rows):
                number = row.get("number", "")
                if number in first_row_of:
                    # Twice in one file is a mistake whatever ``existing`` says: the second
                    # row would silently undo or repeat the first.
                    message = f"Extension {number} is on row {first_row_of[number]} already."
                    outcome = RowOutcome(index + 2, number, "failed",
                                         errors=[RowError(index + 2, "number", message)])
                else:
                    if number:
                        first_row_of[number] = index + 2
                    outcome = import_row(account, index + 2, row, actor=actor, ip=ip, existing=existing)
                report.append(outcome)
                if progress:
                    progress.update(index + 1)
            errors = [error for row in report for error in row.errors]
            written = sum(1 for row in report if row.outcome in ("created", "updated"))
            keep = not dry_run and written and not (errors and mode == "all_or_nothing")
            if not keep:
                raise _RolledBack
            outcome = Outcome(total, errors, written, report, existing)
            record(actor, account, "extension.import", ip, rows=total, imported=written,
                   created=outcome.count("created"), updated=outcome.count("updated"),
                   unchanged=outcome.count("unchanged"), skipped=outcome.count("skipped"),
                   failed=outcome.failed_rows, mode=mode, existing=existing)
    except _RolledBack:
        outcome = Outcome(total, [error for row in report for error in row.errors], 0, report, existing)
    if progress:
        progress.update(total, force=True)
    return outcome


# --- the job ---------------------------------------------------------------------------------


def start_import_job(account: Account, text: str, *, actor: User, ip: str | None, dry_run: bool,
                     mode: str, existing: str = "error") -> Job:
    """Check the file as a whole (CsvRefused) and the actor's right to write here
    (PermissionDenied), then queue the import: the job runs in a worker once this
    transaction commits."""
    from pbx.actions.crud import authorize

    authorize(actor, account)
    if existing not in EXISTING:
        raise ValueError(f"existing must be one of {EXISTING}")
    parsed = parse_csv(text, existing)
    job = Job.objects.create(account=account, created_by=actor, created_from=ip,
                             kind=Job.Kind.EXTENSION_IMPORT,
                             options={"dry_run": dry_run, "mode": mode, "existing": existing},
                             payload=text, total=len(parsed.rows))

    def send() -> None:
        try:
            run_job.apply_async((job.pk,), retry=False)
        except Exception:
            log.exception("could not queue job %s", job.pk)
            Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
                state=Job.State.FAILED, finished_at=timezone.now(), payload="",
                errors=[_job_error("The job could not be queued; try again.")])

    transaction.on_commit(send, robust=True)
    return job


def _job_error(message: str) -> dict[str, Any]:
    """An error of the job as a whole (no row, no column)."""
    return {"row": None, "column": None, "message": message}


def _finish(job: Job, state: str, errors: list[dict[str, Any]], result: dict[str, Any] | None,
            done: int | None = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=state, errors=errors, result=result, finished_at=timezone.now(), payload="",
        **({"done": done} if done is not None else {}))


def run_import_job(job: Job) -> None:
    actor = job.created_by
    if actor is None or not actor.is_active:
        _finish(job, Job.State.FAILED, [_job_error("The user who started this job can no longer write.")],
                None)
        return
    dry_run = bool(job.options.get("dry_run"))
    mode = job.options.get("mode", "all_or_nothing")
    existing = job.options.get("existing", "error")
    progress = Progress(job)
    try:
        outcome = import_extensions(job.account, job.payload, actor=actor, ip=job.created_from,
                                    dry_run=dry_run, mode=mode, existing=existing, progress=progress)
    except ObjectDoesNotExist:
        # The account left the creator's reach meanwhile (moved, deleted).
        _finish(job, Job.State.FAILED, [_job_error("The account is no longer within your reach.")], None)
        return
    except (CsvRefused, PermissionDenied, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _finish(job, Job.State.FAILED, [_job_error(message)], None)
        return
    finally:
        progress.close()
    failed = bool(outcome.errors) and mode == "all_or_nothing"
    _finish(job, Job.State.FAILED if failed else Job.State.SUCCEEDED,
            [error.as_json() for error in outcome.errors],
            {"dry_run": dry_run, "mode": mode, "existing": existing, "rows": outcome.rows,
             "valid_rows": outcome.rows - outcome.failed_rows, "failed_rows": outcome.failed_rows,
             "imported": outcome.imported,
             **{name: outcome.count(name) for name in ("created", "updated", "unchanged", "skipped")},
             "report": [row.as_json() for row in outcome.report]},
            done=outcome.rows)


RUNNERS = {Job.Kind.EXTENSION_IMPORT: run_import_job}


@shared_task(name="pbx.run_job", ignore_result=True)
def run_job(job_id: int) -> None:
    """Run a queued job. A job found running was cut short (a worker died: acks_late
    delivers it again); its transaction never committed, so it runs again from the
    start. A finished one is left alone."""
    job = Job.objects.select_related("account", "created_by").filter(pk=job_id).first()
    if job is None or job.state in Job.FINISHED:
        return
    connection.set_schema_to_public()
    try:
        RUNNERS[job.kind](job)
    except Exception:
        log.exception("job %s failed", job_id)
        _finish(job, Job.State.FAILED,
                [_job_error("The job stopped on an internal error; nothing was kept.")], None)


# --- export ----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return "" if value is None else str(value)


def export_rows(account: Account, queryset=None) -> Iterator[list[str]]:
    """The header, then one row per extension (by number): the import's columns, so the
    file imports into another account as it is. Secrets are not exported: the
    voicemail PIN and SIP secret cells are empty (the import then generates them)."""
    with schema_context(account.schema_name):
        from django.db.models import Count, Max

        extensions = queryset if queryset is not None else Extension.objects.all()
        devices = extensions.annotate(n=Count("devices")).aggregate(most=Max("n"))["most"] or 0
        header = columns(devices)
        yield list(header)
        query = (extensions.select_related("voicemail_box").prefetch_related("devices")
                 .order_by("number"))
        for extension in query.iterator(chunk_size=500):
            box = getattr(extension, "voicemail_box", None)
            values: dict[str, Any] = {name: getattr(extension, name, "") for name in EXTENSION_COLUMNS
                                      if hasattr(extension, name)}
            values["voicemail_pin"] = ""
            values["voicemail_email"] = box.email if box else ""
            for n, device in enumerate(extension.devices.all(), start=1):
                values.update({f"device{n}_{part}": getattr(device, part, "") for part in DEVICE_PARTS
                               if part != "secret"})
            yield [_cell(values.get(name)) for name in header]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(account: Account, queryset=None) -> Iterator[str]:
    """The export as CSV text, a line at a time (for a streamed response)."""
    writer = csv.writer(_Echo())
    for row in export_rows(account, queryset):
        yield writer.writerow(row)
