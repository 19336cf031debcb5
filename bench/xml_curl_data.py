"""The xml_curl benchmark's data set: N customer accounts (under a few resellers), each with
E extensions of one device and a few DIDs routed to extensions, built once into its own
database through the project's actions and reused while it is complete.

Accounts are made by ``do_create_account`` (tree insert, schema copy, domains, audit);
extensions, devices and numbers are bulk inserts, one transaction per tenant, so an
interrupted build resumes where it stopped; bulk inserts bypass the actions layer, so each
tenant's rows of the public directory index are rebuilt after them (and, for a data set
built before the index existed, when it is reused). The database comment records what was
built.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlparse, urlunparse

# Bump when the shape of the data changes: an older data set is then rebuilt.
DATASET_VERSION = "xml_curl-dataset-1"
RESELLERS = 10
DID_AREA_CODES = ("416", "647", "437", "905")
FIRST_EXTENSION = 1001


@dataclass(frozen=True)
class Spec:
    tenants: int
    extensions: int
    dids: int = len(DID_AREA_CODES)
    version: str = DATASET_VERSION


def tenant_domain(tenant: int) -> str:
    return f"t{tenant:04d}.bench.example.net"


def did(tenant: int, index: int) -> str:
    """The tenant's ``index``-th DID (E.164 without +), routed to extension 1001 + index."""
    return f"1{DID_AREA_CODES[index]}555{tenant:04d}"


def device_secret(tenant: int, number: str) -> str:
    return f"t{tenant:04d}-{number}-secret"


def open_database(url: str, rebuild: bool) -> str:
    """Create the database at ``url`` if missing (drop it first with ``rebuild``); export
    it as DATABASE_URL. Returns the server version."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if rebuild:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
        version = conn.execute("SHOW server_version").fetchone()[0]
    os.environ["DATABASE_URL"] = url
    os.environ["SWITCHBOARD_BENCH_PG_VERSION"] = version
    return version


def _marker() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                       "WHERE datname = current_database()")
        text = cursor.fetchone()[0]
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _set_marker(spec: Spec, complete: bool) -> None:
    from django.db import connection

    text = json.dumps({**asdict(spec), "complete": complete})
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
        cursor.execute(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")


def _migrate_if_needed() -> None:
    """The public schema is always brought up to date (cheap); every tenant schema only
    when the template lags the code (migrate_all copies the new template state too)."""
    from django.core.management import call_command

    from tenants.provisioning import template_is_current

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    if not template_is_current():
        print("tenant migrations changed: migrating every tenant schema (migrate_all) ...", flush=True)
        call_command("migrate_all", verbosity=0)  # rebuilds the directory index too
    _index_if_needed()


def _index_if_needed() -> None:
    """Index the tenants that have no directory index rows (a data set built before the
    index existed); every bench tenant has extensions, so none legitimately has none."""
    from fsconf.directory_index import rebuild_all
    from fsconf.models import DirectoryEntry
    from tenants.models import Account

    indexed = DirectoryEntry.objects.values("account_id").distinct()
    missing = Account.objects.filter(kind=Account.Kind.CUSTOMER).exclude(pk__in=indexed).order_by("pk")
    if missing.exists():
        start = time.perf_counter()
        done = rebuild_all(missing)
        print(f"directory index: {done} tenants indexed in {time.perf_counter() - start:.1f} s", flush=True)


def ensure(spec: Spec) -> str:
    """Build or resume the data set (Django must be set up). Returns a one-line status."""
    from tenants.models import Account

    marker = _marker()
    same_spec = {k: marker.get(k) for k in asdict(spec)} == asdict(spec)
    customers = Account.objects.filter(kind=Account.Kind.CUSTOMER)
    if same_spec and marker.get("complete") and customers.count() == spec.tenants:
        _migrate_if_needed()
        return f"reused ({spec.tenants} tenants x {spec.extensions} extensions, {spec.version})"
    if marker and not same_spec:
        raise SystemExit(f"the database holds another data set ({marker}); use --rebuild")
    start = time.perf_counter()
    built = _build(spec)
    _set_marker(spec, complete=True)
    return f"built {built} tenants in {time.perf_counter() - start:.0f} s"


def _build(spec: Spec) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from tenants.actions import do_bootstrap_master, do_create_account
    from tenants.models import Account, User

    # Spare schemas would be refilled through Celery; every tenant here gets a fresh copy.
    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    _set_marker(spec, complete=False)
    if not Account.objects.filter(kind=Account.Kind.MASTER).exists():
        do_bootstrap_master(name="Bench Provider", domains=["localhost", "127.0.0.1"],
                            admin_username="bench", admin_password="bench-password-long")
    actor = User.objects.get(username="bench")
    master = Account.objects.get(kind=Account.Kind.MASTER)
    resellers = list(Account.objects.filter(kind=Account.Kind.RESELLER).order_by("name"))
    for r in range(len(resellers), RESELLERS):
        resellers.append(do_create_account(
            actor, parent=master, name=f"Reseller {r:02d}", domain=f"r{r:02d}.bench.example.net",
            kind=Account.Kind.RESELLER, max_extensions=spec.extensions, max_concurrent_calls=100,
            allow_international=True,
        ))
    done = Account.objects.filter(kind=Account.Kind.CUSTOMER).count()
    start = time.perf_counter()
    for tenant in range(done, spec.tenants):
        with transaction.atomic():
            _build_tenant(actor, resellers[tenant % RESELLERS], tenant, spec)
        if (tenant + 1) % 50 == 0 or tenant + 1 == spec.tenants:
            rate = (tenant + 1 - done) / (time.perf_counter() - start)
            print(f"  {tenant + 1}/{spec.tenants} tenants ({rate:.1f}/s)", flush=True)
    return spec.tenants - done


def _build_tenant(actor, reseller, tenant: int, spec: Spec) -> None:
    from django_tenants.utils import schema_context

    from common.secrets import encrypt_secret
    from fsconf.directory_index import rebuild
    from pbx.models import Device, Extension, VoicemailBox
    from tenants.actions import do_create_account
    from tenants.models import PhoneNumber

    account = do_create_account(
        actor, parent=reseller, name=f"Tenant {tenant:04d}", domain=tenant_domain(tenant),
        max_extensions=spec.extensions, max_concurrent_calls=20, allow_international=True,
        outbound_caller_id=f"+{did(tenant, 0)}",
    )
    numbers = [str(FIRST_EXTENSION + n) for n in range(spec.extensions)]
    with schema_context(account.schema_name):
        extensions = Extension.objects.bulk_create([
            Extension(number=number, name=f"User {number}", call_permission="international")
            for number in numbers
        ])
        VoicemailBox.objects.bulk_create([
            VoicemailBox(number=extension.number, name=extension.name, extension=extension,
                         pin=f"{extension.number}0")
            for extension in extensions
        ])
        Device.objects.bulk_create([
            Device(extension=extension, username=extension.number, label="Desk phone",
                   secret_encrypted=encrypt_secret(device_secret(tenant, extension.number)))
            for extension in extensions
        ])
    PhoneNumber.objects.bulk_create([
        PhoneNumber(e164=f"+{did(tenant, k)}", account=account,
                    route=f"extension:{extensions[k % len(extensions)].pk}")
        for k in range(spec.dids)
    ])
    rebuild(account)
