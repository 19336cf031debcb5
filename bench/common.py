"""Shared set-up for benchmarks: a throw-away database on the same server as the app."""

from __future__ import annotations

import os
import platform
import statistics
from urllib.parse import urlparse, urlunparse


def use_bench_database(name: str) -> str:
    """Point DATABASE_URL at a fresh database ``name`` on the configured server."""
    from switchboard.database import database_url

    url = urlparse(database_url())
    import psycopg

    admin_url = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    bench_url = urlunparse(url._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["SWITCHBOARD_BENCH_PG_VERSION"] = server_version
    return bench_url


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    # Whole GiB of RAM, as `free -g` printed it, without needing procps installed.
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {os.environ.get('SWITCHBOARD_BENCH_PG_VERSION')}"
    )


def summary(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.1f} / {p95:.1f} / {ordered[-1]:.1f}"


def setup_django(database: str, keep: bool) -> None:
    """Django on the bench database ``database``: a fresh one (dropped and created), or,
    with ``keep``, the one a previous run left (nothing regenerated)."""
    if keep:
        from switchboard.database import database_url

        os.environ["DATABASE_URL"] = urlunparse(urlparse(database_url())._replace(path=f"/{database}"))
    else:
        use_bench_database(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    import django

    django.setup()


def tree_step(number: int) -> str:
    """One step of an account's tree path (treebeard's materialised path) for child
    ``number`` (1-based)."""
    from tenants.models import Account

    alphabet = Account.alphabet
    digits = ""
    for _ in range(Account.steplen):
        number, rest = divmod(number, len(alphabet))
        digits = alphabet[rest] + digits
    return digits


def make_account_tree(resellers: int, customers: int, *, name_of=None, **fields) -> None:
    """Migrate the bench database and give it a provider (``bench`` / ``bench-password-long``)
    with ``resellers`` resellers and ``customers`` customers spread over them round-robin
    (customer c under reseller c % resellers), inserted as rows in bulk: no tenant schema
    is made, so a thousand accounts take a second. ``name_of(c)`` names customer c
    (default "Customer c"); ``fields`` (country, timezone ...) go on every reseller and
    customer, except ``outbound_caller_id``, which only customers get."""
    from django.conf import settings
    from django.core.management import call_command

    from tenants.actions import do_bootstrap_master
    from tenants.models import Account

    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    do_bootstrap_master(name="Bench Provider", domains=["localhost"], admin_username="bench",
                        admin_password="bench-password-long")
    master = Account.objects.get(kind=Account.Kind.MASTER)
    customer_only = {key: fields.pop(key) for key in ("outbound_caller_id",) if key in fields}
    parents = [Account(name=f"Reseller {r}", kind=Account.Kind.RESELLER, schema_name=f"bench_r{r}",
                       path=master.path + tree_step(r), depth=2, numchild=customers // resellers, **fields)
               for r in range(1, resellers + 1)]
    Account.objects.bulk_create(parents)
    children = []
    for c in range(customers):
        parent = parents[c % resellers]
        children.append(Account(name=name_of(c) if name_of else f"Customer {c}", kind=Account.Kind.CUSTOMER,
                                schema_name=f"bench_c{c}", path=parent.path + tree_step(c // resellers + 1),
                                depth=3, numchild=0, **fields, **customer_only))
    Account.objects.bulk_create(children)
    Account.objects.filter(pk=master.pk).update(numchild=resellers)
