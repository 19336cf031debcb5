"""What keeping the public directory index costs a PBX write, for a tenant of 100 and of
1,000 extensions (one device and one voicemail box each): the index work alone and a
whole write through the actions, three ways each:

  * whole: the account's rows rebuilt (fsconf.directory_index.rebuild; what every write
    did before the change signal said what changed, and still what a send that names
    nothing gets);
  * per extension: only the changed extension's rows (directory_index.update with
    IndexScope.extension, what an extension or device write now sends);
  * skipped: nothing (IndexScope.NOTHING: a ring group, schedule, attendant ... write).

Usage: .venv/bin/python -m bench.xml_curl_index_cost [--samples 30]

A fresh database (switchboard_bench_index) on the configured server (DATABASE_URL, or
the embedded one): the platform and the two tenants, made with bulk inserts and indexed
(the index table holds only their rows). Every sample runs in its own transaction, rolled
back, so all samples see the same data; commit excluded (the same with or without the
index). The write samples of the three ways are interleaved, so drift hits them alike.
The load average is printed before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine, use_bench_database


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
    return (f"{statistics.median(ordered):.2f} / {ordered[round(0.95 * (len(ordered) - 1))]:.2f} / "
            f"{ordered[-1]:.2f}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _tenant(extensions: int):
    """A customer with ``extensions`` extensions, one device and one box each (bulk
    inserts), indexed, committed."""
    from django_tenants.utils import schema_context

    from fsconf.directory_index import rebuild
    from pbx.models import Device, Extension, VoicemailBox
    from tenants.actions import do_create_account
    from tenants.models import Account, User

    actor = User.objects.get(username="bench")
    master = Account.objects.get(kind=Account.Kind.MASTER)
    account = do_create_account(actor, parent=master, name=f"Index cost {extensions}",
                                domain=f"index-cost-{extensions}.bench.example.net",
                                max_extensions=extensions * 10, max_concurrent_calls=20)
    with schema_context(account.schema_name):
        made = Extension.objects.bulk_create([
            Extension(number=str(10000 + n), name=f"User {n}") for n in range(extensions)])
        VoicemailBox.objects.bulk_create([
            VoicemailBox(number=e.number, name=e.name, extension=e, pin="135790") for e in made])
        Device.objects.bulk_create([
            Device(extension=e, username=e.number, secret_encrypted="x" * 80) for e in made])
    rebuild(account)
    return account


def setup() -> dict[int, object]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tenants.actions import do_bootstrap_master

    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    do_bootstrap_master(name="Bench", domains=["localhost"], admin_username="bench",
                        admin_password="bench-password-long")
    tenants = {size: _tenant(size) for size in (100, 1000)}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return tenants


def measure(account, samples: int) -> dict[str, str]:
    from django_tenants.utils import schema_context

    from fsconf import receivers
    from fsconf.cache import invalidate_tenant
    from fsconf.directory_index import rebuild, update
    from fsconf.models import DirectoryEntry
    from pbx.actions import do_create_ring_group, do_update_extension, do_update_ring_group
    from pbx.models import Extension
    from pbx.signals import IndexScope, tenant_config_changed

    with schema_context(account.schema_name):
        extension = Extension.objects.order_by("number")[Extension.objects.count() // 2]
    rows = DirectoryEntry.objects.filter(account=account).count()
    one = IndexScope.extension(extension.pk)
    rebuild(account)  # this connection has read the schema's catalog before: not measured
    update(account, one)
    index = {"whole": [], "extension": [], "skipped": []}
    for _ in range(samples):  # interleaved
        index["whole"] += _timed(lambda: rebuild(account), 1)
        index["extension"] += _timed(lambda: update(account, one), 1)
        index["skipped"] += _timed(lambda: update(account, IndexScope.NOTHING), 1)

    names = iter(range(10 ** 6))

    def rename() -> None:
        do_update_extension(account, extension, name=f"Renamed {next(names)}")

    def whole_receiver(sender, account, **kwargs) -> None:  # the receiver as it was
        rebuild(account)
        invalidate_tenant(account.schema_name)

    def as_whole(work):
        def run() -> None:
            tenant_config_changed.disconnect(receivers._tenant_changed)
            tenant_config_changed.connect(whole_receiver)
            try:
                work()
            finally:
                tenant_config_changed.disconnect(whole_receiver)
                tenant_config_changed.connect(receivers._tenant_changed)
        return run

    group = do_create_ring_group(account, number="7000", name="Sales")

    def group_rename() -> None:
        do_update_ring_group(account, group, name=f"Sales {next(names)}")

    writes = {"rename whole": [], "rename extension": [], "group whole": [], "group skipped": []}
    for _ in range(samples):
        writes["rename whole"] += _timed(as_whole(rename), 1)
        writes["rename extension"] += _timed(rename, 1)
        writes["group whole"] += _timed(as_whole(group_rename), 1)
        writes["group skipped"] += _timed(group_rename, 1)
    return {"rows": f"{rows:,}", **{key: _summary(value) for key, value in {**index, **writes}.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    use_bench_database("switchboard_bench_index")
    tenants = setup()
    load_before = _load()
    results = {size: measure(account, args.samples) for size, account in tenants.items()}
    load_after = _load()
    print(f"Machine: {machine()}")
    print(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}")
    print(f"Samples: {args.samples} per cell, interleaved, each in its own transaction, rolled back; "
          "ms median / p95 / max, commit excluded.\n")
    print("| extensions | index rows | index: whole rebuild | index: one extension | index: skipped |")
    print("|---|---|---|---|---|")
    for size, cells in results.items():
        print(f"| {size:,} | {cells['rows']} | {cells['whole']} | {cells['extension']} | "
              f"{cells['skipped']} |")
    print("\n| extensions | extension rename, whole rebuild | extension rename, its rows | "
          "ring group rename, whole rebuild | ring group rename, skipped |")
    print("|---|---|---|---|---|")
    for size, cells in results.items():
        print(f"| {size:,} | {cells['rename whole']} | {cells['rename extension']} | "
              f"{cells['group whole']} | {cells['group skipped']} |")


if __name__ == "__main__":
    main()
