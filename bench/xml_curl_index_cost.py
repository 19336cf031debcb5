"""What keeping the public directory index costs a PBX write: the account's rows rebuilt
inside the write's transaction (fsconf.directory_index.rebuild), for a tenant of 100 and of
1,000 extensions (one device and one voicemail box each).

Usage: .venv/bin/python -m bench.xml_curl_index_cost [--samples 30]

Runs against the xml_curl data set (BENCH_DATABASE_URL, default the full one,
switchboard_bench; bench.xml_curl builds it): the 100-extension tenant is one of its
tenants, the 1,000-extension one is made for the run. Every sample is rolled back, so the
data set is left as it was. Times are in process (Django, psycopg, PostgreSQL on this
machine), commit excluded (it is the same with or without the index).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine
from bench.xml_curl import SERVER_ENV
from bench.xml_curl_data import open_database, tenant_domain


class _Rollback(Exception):
    pass


def _timed(work, samples: int) -> list[float]:
    """Milliseconds per sample, each sample in its own transaction, rolled back."""
    from django.db import transaction

    times = []
    for _ in range(samples):
        try:
            with transaction.atomic():
                start = time.perf_counter()
                work()
                times.append((time.perf_counter() - start) * 1000)
                raise _Rollback
        except _Rollback:
            pass
    return times


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"{statistics.median(ordered):.1f} / {ordered[round(0.95 * (len(ordered) - 1))]:.1f} / "
            f"{ordered[-1]:.1f}")


def _big_tenant(extensions: int):
    """A customer with ``extensions`` extensions, one device and one box each, as the data
    set makes them (bulk inserts), indexed. Called inside a transaction that is rolled back."""
    from django_tenants.utils import schema_context

    from fsconf.directory_index import rebuild
    from pbx.models import Device, Extension, VoicemailBox
    from tenants.actions import do_create_account
    from tenants.models import Account, User

    actor = User.objects.get(username="bench")
    master = Account.objects.get(kind=Account.Kind.MASTER)
    account = do_create_account(actor, parent=master, name="Index cost 1000",
                                domain="index-cost.bench.example.net", max_extensions=extensions,
                                max_concurrent_calls=20)
    with schema_context(account.schema_name):
        made = Extension.objects.bulk_create([
            Extension(number=str(10000 + n), name=f"User {n}") for n in range(extensions)])
        VoicemailBox.objects.bulk_create([
            VoicemailBox(number=e.number, name=e.name, extension=e, pin="135790") for e in made])
        Device.objects.bulk_create([
            Device(extension=e, username=e.number, secret_encrypted="x" * 80) for e in made])
    rebuild(account)
    return account


def measure(account, samples: int) -> dict[str, str]:
    from django_tenants.utils import schema_context

    from fsconf import receivers
    from fsconf.directory_index import rebuild
    from fsconf.models import DirectoryEntry
    from pbx.actions import do_update_extension
    from pbx.models import Extension
    from pbx.signals import tenant_config_changed

    with schema_context(account.schema_name):
        extension = Extension.objects.order_by("number").first()
    rows = DirectoryEntry.objects.filter(account=account).count()
    rebuild(account)  # this connection has read the schema's catalog before: not measured
    rebuild_ms = _timed(lambda: rebuild(account), samples)
    names = iter(range(10 ** 6))

    def rename() -> None:
        do_update_extension(account, extension, name=f"Renamed {next(names)}")

    with_index, without = [], []
    for _ in range(samples):  # interleaved, so drift hits both alike
        with_index += _timed(rename, 1)
        tenant_config_changed.disconnect(receivers._tenant_changed)
        tenant_config_changed.connect(_invalidate_only)
        try:
            without += _timed(rename, 1)
        finally:
            tenant_config_changed.disconnect(_invalidate_only)
            tenant_config_changed.connect(receivers._tenant_changed)
    return {"rows": f"{rows:,}", "rebuild": _summary(rebuild_ms),
            "update with": _summary(with_index), "update without": _summary(without)}


def _invalidate_only(sender, account, **kwargs) -> None:
    from fsconf.cache import invalidate_tenant

    invalidate_tenant(account.schema_name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench")
    os.environ.update(SERVER_ENV)
    open_database(url, rebuild=False)
    import django

    django.setup()
    from django.db import transaction

    from tenants.models import Domain

    results = {}
    small = Domain.objects.get(domain=tenant_domain(0)).tenant
    results[100] = measure(small, args.samples)
    try:
        with transaction.atomic():
            big = _big_tenant(1000)
            results[1000] = measure(big, args.samples)
            raise _Rollback
    except _Rollback:
        pass
    print(f"Machine: {machine()}")
    print(f"Samples: {args.samples} per cell, each in its own transaction, rolled back; "
          "ms median / p95 / max, commit excluded.\n")
    print("| extensions (1 device, 1 box each) | index rows | rebuild alone ms | "
          "do_update_extension (rename) with the rebuild ms | the same without it ms |")
    print("|---|---|---|---|---|")
    for size, cells in results.items():
        print(f"| {size:,} | {cells['rows']} | {cells['rebuild']} | {cells['update with']} | "
              f"{cells['update without']} |")


if __name__ == "__main__":
    main()
