"""Tenant schemas: one migrated template schema, copied for every new account.

Copying costs a few milliseconds per table (catalog rows and files for every table and
index), so a small pool of spare copies is kept ready (``TENANT_SPARE_SCHEMAS``): a new
account takes one by renaming it, which costs the same whatever the schema's size, and a
Celery task tops the pool up after the commit. With the pool empty, the account gets a
fresh copy instead.

Running every tenant migration for each new account gets slower as migrations pile up;
copying a schema that is already migrated costs the same whatever the history. The
template's ``django_migrations`` rows are copied with it, so the new schema is recorded
as fully migrated. Before each copy the template is compared with the migrations in the
code (one query) and re-migrated if it lags, so a new schema is never older than the code.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from functools import cache

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from tenants.schema_clone import ClonePlan, build_plan, unsupported_objects

log = logging.getLogger(__name__)

_plans: dict[frozenset, ClonePlan | None] = {}
_plans_lock = threading.Lock()


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


@cache
def migrations_in_code() -> frozenset[tuple[str, str]]:
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def template_migrations() -> frozenset[tuple[str, str]] | None:
    """The migrations recorded in the template, or None when there is no template."""
    template = template_schema()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{template}.django_migrations"])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f'SELECT app, name FROM "{template}".django_migrations')
        return frozenset(cursor.fetchall())


def template_is_current() -> bool:
    return template_migrations() == migrations_in_code()


def refresh_template(verbosity: int = 0) -> None:
    """Create or migrate the template schema."""
    template = template_schema()
    log.info("migrating tenant template schema %s", template)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{template}"')
    call_command(
        "migrate_schemas",
        tenant=True,
        schema_name=template,
        interactive=False,
        verbosity=verbosity,
    )
    connection.set_schema_to_public()


def _plan_for(state: frozenset) -> ClonePlan | None:
    """The clone plan of the template in ``state``; None means "use clone_schema()"."""
    with _plans_lock:
        if state not in _plans:
            with connection.cursor() as cursor:
                leftovers = unsupported_objects(cursor, template_schema())
                if leftovers:
                    log.warning("template holds %s: using clone_schema()", ", ".join(leftovers))
                    _plans[state] = None
                else:
                    _plans[state] = build_plan(cursor, template_schema())
        return _plans[state]


def _current_state() -> frozenset:
    state = template_migrations()
    if state != migrations_in_code():
        refresh_template()
        state = template_migrations()
    return state


def _copy_template(state: frozenset, schema_name: str) -> None:
    plan = _plan_for(state)
    if plan is None:
        CloneSchema().clone_schema(template_schema(), schema_name, "DATA")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(%s)", [schema_name])
        cursor.execute(plan.sql_for(cursor.fetchone()[0]))


def spare_prefix(state: frozenset) -> str:
    """Spare schemas are named after the migration state they were copied at, so a spare
    older than the code is never handed out."""
    digest = hashlib.sha1(repr(sorted(state)).encode()).hexdigest()[:10]
    return f"spare_{digest}_"


def _schemas_like(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY nspname",
            [prefix],
        )
        return [name for (name,) in cursor.fetchall()]


def _claim_spare(state: frozenset, schema_name: str) -> bool:
    for spare in _schemas_like(spare_prefix(state)):
        with connection.cursor() as cursor:
            # Concurrent creations must not take the same spare.
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [spare])
            if not cursor.fetchone()[0]:
                continue
            try:
                with transaction.atomic():
                    cursor.execute(f'ALTER SCHEMA "{spare}" RENAME TO "{schema_name}"')
            except DatabaseError:
                continue  # taken by a creation that committed after we listed it
        return True
    return False


def create_tenant_schema(schema_name: str) -> None:
    """Create ``schema_name`` as a copy of the template schema, structure and rows."""
    connection.set_schema_to_public()
    if schema_exists(schema_name, case_sensitive=False):
        raise ValueError(f"schema {schema_name!r} already exists")
    state = _current_state()
    if not _claim_spare(state, schema_name):
        _copy_template(state, schema_name)
    if settings.TENANT_SPARE_SCHEMAS:
        # robust: a broker outage must not fail the request; the next creation retries.
        transaction.on_commit(refill_spare_schemas.delay, robust=True)


def refill_spares(target: int | None = None) -> int:
    """Drop spares of an older template, then copy until ``target`` spares exist.
    Returns how many were made."""
    target = settings.TENANT_SPARE_SCHEMAS if target is None else target
    connection.set_schema_to_public()
    state = _current_state()
    prefix = spare_prefix(state)
    for stale in _schemas_like("spare_"):
        if not stale.startswith(prefix):
            drop_tenant_schema(stale)
    made = 0
    while len(_schemas_like(prefix)) < target:
        with transaction.atomic():
            _copy_template(state, f"{prefix}{uuid.uuid4().hex[:12]}")
        made += 1
    return made


# Defined beside its work rather than in tenants.tasks (which only gathers the app's tasks
# for Celery): create_tenant_schema queues it, and importing tenants.tasks from here would
# close a cycle. The name is the one Celery gave it there, so queued messages still run.
@shared_task(name="tenants.tasks.refill_spare_schemas", ignore_result=True)
def refill_spare_schemas() -> int:
    """Top up the pool of ready-made tenant schemas after an account took one."""
    return refill_spares()


def drop_tenant_schema(schema_name: str) -> None:
    if schema_name in (settings.PUBLIC_SCHEMA_NAME, template_schema()):
        raise ValueError(f"refusing to drop {schema_name!r}")
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
