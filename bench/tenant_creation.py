"""How long creating an account takes as the platform grows (10, 100, 1,000 tenants).

Usage: .venv/bin/python -m bench.tenant_creation [--levels 10 100 1000] [--samples 10]
       [--extra-tables 60]

For each population level it times, in the same run and on the same server:
  * ours, spare:   do_create_account() end to end (row, schema, domains, audit) when a
                   spare schema is ready (the normal case), and its first portal
                   request (the account is usable);
  * ours, copy:    the same with the spare pool empty (a fresh copy of the template);
  * clone_schema:  django-tenants' stock clone_schema() of the same template;
  * migrate:       running every tenant migration into an empty schema (no cloning).
With ``--extra-tables N`` the template first gets N more tables (identity key, foreign
key, indexes, unique and check constraints each) before any tenant exists, so every
tenant carries a schema the size the full PBX model will have and the figure does not
flatter today's small schema. ``plan build`` is the one-off cost a process pays on its
first account creation after the template changed (it reads the catalog once).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine, summary, use_bench_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--extra-tables", type=int, default=0)
    args = parser.parse_args()

    use_bench_database("switchboard_bench_tenants")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django_tenants.clone import CloneSchema

    from tenants import provisioning
    from tenants.actions import do_bootstrap_master, do_create_account
    from tenants.models import User

    # Spares are made explicitly below, outside the timings (no worker runs here).
    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    master = do_bootstrap_master(name="Bench", domains=["localhost"], admin_username="bench",
                                 admin_password="bench-password-long")
    actor = User.objects.get(username="bench")
    created = 0

    def create(prefix: str) -> object:
        nonlocal created
        created += 1
        return do_create_account(actor, parent=master, name=f"{prefix} {created}",
                                 domain=f"{prefix}{created}.bench.example.net")

    def time_ours(with_spare: bool) -> tuple[float, float]:
        provisioning.refill_spares(1 if with_spare else 0)
        start = time.perf_counter()
        account = create("s")
        made = time.perf_counter()
        response = Client(HTTP_HOST=account.primary_domain_name).get("/login/")
        connection.set_schema_to_public()
        assert response.status_code == 200, response.status_code
        return (made - start) * 1000, (time.perf_counter() - start) * 1000

    def time_stock_clone(n: int) -> float:
        start = time.perf_counter()
        CloneSchema().clone_schema(provisioning.template_schema(), f"stock_{n}", "DATA")
        elapsed = (time.perf_counter() - start) * 1000
        provisioning.drop_tenant_schema(f"stock_{n}")
        return elapsed

    def time_migrate(n: int) -> float:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "mig_{n}"')
        call_command("migrate_schemas", tenant=True, schema_name=f"mig_{n}",
                     interactive=False, verbosity=0)
        connection.set_schema_to_public()
        elapsed = (time.perf_counter() - start) * 1000
        provisioning.drop_tenant_schema(f"mig_{n}")
        return elapsed

    def table_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s",
                           [provisioning.template_schema()])
            return cursor.fetchone()[0]

    def measure(label: str, level: int, with_migrate: bool) -> str:
        create("warm")  # builds the cached plan outside the samples
        spare_ms, usable_ms, copy_ms, stock_ms, migrate_ms = [], [], [], [], []
        for i in range(args.samples):
            made, usable = time_ours(with_spare=True)
            spare_ms.append(made)
            usable_ms.append(usable)
            copy_ms.append(time_ours(with_spare=False)[0])
            stock_ms.append(time_stock_clone(i))
            if with_migrate:
                migrate_ms.append(time_migrate(i))
        mig = summary(migrate_ms) if migrate_ms else "n/a (extra tables are not migrations)"
        return (f"| {label} | {level:,} | {table_count()} | {summary(spare_ms)} | "
                f"{summary(usable_ms)} | {summary(copy_ms)} | {summary(stock_ms)} | {mig} |")

    if args.extra_tables:
        add_extra_tables(connection, provisioning.template_schema(), args.extra_tables)
    from tenants.schema_clone import build_plan

    label = f"as migrated + {args.extra_tables} tables" if args.extra_tables else "as migrated"
    rows = []
    for level in sorted(args.levels):
        while created < level:
            create("p")
        provisioning._plans.clear()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            build_plan(cursor, provisioning.template_schema())
        plan_ms = (time.perf_counter() - start) * 1000
        rows.append(measure(label, level, with_migrate=not args.extra_tables) + f" {plan_ms:.0f} |")
        print(rows[-1], flush=True)

    print()
    print(f"Machine: {machine()}")
    print(f"Times in ms as median / p95 / max over {args.samples} samples per row; each sample "
          "creates one more account while the level's tenants exist.")
    print("| template | tenants present | tables in template | ours, spare ready: create | "
          "ours, spare ready: create + first portal request | ours, pool empty: create (copy) | "
          "django-tenants clone_schema() | migrate every tenant migration | plan build (once per "
          "process) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def add_extra_tables(connection, schema: str, count: int) -> None:
    with connection.cursor() as cursor:
        for i in range(count):
            parent = f'"{schema}".bench_t{i - 1}' if i else None
            fk = f", parent_id bigint REFERENCES {parent}(id) DEFERRABLE INITIALLY DEFERRED" if parent else ""
            cursor.execute(f"""
                CREATE TABLE "{schema}".bench_t{i} (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    name varchar(100) NOT NULL, number varchar(20) NOT NULL UNIQUE,
                    enabled boolean NOT NULL DEFAULT true,
                    ring_seconds integer NOT NULL CHECK (ring_seconds >= 0),
                    created timestamptz NOT NULL DEFAULT now(){fk})""")
            cursor.execute(f'CREATE INDEX bench_t{i}_name ON "{schema}".bench_t{i} (name)')
            cursor.execute(f'CREATE INDEX bench_t{i}_name_like ON "{schema}".bench_t{i} '
                           "(name varchar_pattern_ops)")


if __name__ == "__main__":
    main()
