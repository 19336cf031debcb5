"""What a CSV import of 1,000 extensions costs with the account change signals sent per
write and coalesced into one send per import (pbx.signals.coalesce_changes, what
pbx.bulk does). When this bench was written every send rebuilt the account's whole
public directory index; a send now updates only the rows it names
(pbx.signals.IndexScope, fsconf.directory_index.update), so the per-row ways below cost
far less than the figures in docs/benchmarks.md, which are from then.

Usage: .venv/bin/python -m bench.bulk_import [--rows 1000] [--one-transaction-rows 200]
       [--committed-rows N] [--update-rows N] [--only-update]

A fresh database (switchboard_bench_bulk) on the configured server, one customer. The
same CSV (one device and a voicemail e-mail per extension), through the same actions
(pbx.bulk.import_row), three ways:

  * per row, committed: each row its own transaction, as 1,000 single creates through
    the API would be (3 writes per row, each updating its extension's index rows);
  * per row, in one transaction: what the import would cost without coalescing (the
    index's rows deleted and inserted again by every write pile up as dead rows the
    transaction cannot vacuum), at ``--one-transaction-rows`` (it grows worse than
    quadratically);
  * coalesced: pbx.bulk.import_extensions, one transaction, one rebuild.

Then re-imports with ``existing=update`` (``--update-rows``, default ``--rows``; in one
rolled-back transaction after an import of the same file, timed as their baseline): the file unchanged
(every row compared, nothing written) and with every row's name changed (an update of
each extension and its box through the actions). ``--only-update`` runs only these.

The committed run is cleaned up (the extensions deleted, committed) before the next;
the others are rolled back. Sends are counted by a receiver of tenant_config_changed
beside fsconf's (which updates the index on every send).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import machine, use_bench_database

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


class _Rollback(Exception):
    pass


def make_csv(rows: int) -> str:
    lines = ["number,name,email,voicemail_email,device1_label"]
    lines += [f"{10000 + n},User {n},user{n}@example.com,vm{n}@example.com,Desk" for n in range(rows)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--one-transaction-rows", type=int, default=200)
    # The committed per-row run slows down as the index's table bloats (every write
    # deletes and inserts all of the account's rows): on a loaded machine 1,000 rows may
    # take a quarter of an hour.
    parser.add_argument("--committed-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--update-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--only-update", action="store_true")
    args = parser.parse_args()

    use_bench_database("switchboard_bench_bulk")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django_tenants.utils import schema_context

    from fsconf.directory_index import rebuild
    from fsconf.models import DirectoryEntry
    from pbx import bulk
    from pbx.models import Extension
    from pbx.signals import tenant_config_changed
    from tenants.actions import do_bootstrap_master, do_create_account
    from tenants.models import User

    settings.TENANT_SPARE_SCHEMAS = 0
    call_command("migrate_all", verbosity=0)
    master = do_bootstrap_master(name="Bench", domains=["localhost"], admin_username="bench",
                                 admin_password="bench-password-long")
    actor = User.objects.get(username="bench")
    account = do_create_account(actor, parent=master, name="Bulk 1000", domain="bulk.bench.example.net",
                                max_extensions=args.rows + 10, max_concurrent_calls=20)
    rebuilds = [0]

    def count(sender, account, **kwargs) -> None:
        rebuilds[0] += 1

    tenant_config_changed.connect(count, dispatch_uid="bench-bulk-count")

    def per_row_committed(text: str) -> None:
        for index, row in enumerate(bulk.parse_csv(text).rows):
            with transaction.atomic():
                assert not bulk.import_row(account, index + 2, row, actor=actor, ip=None).errors

    def per_row_one_transaction(text: str) -> None:
        # The import's loop without the coalescing block: every action sends its signals.
        with transaction.atomic():
            for index, row in enumerate(bulk.parse_csv(text).rows):
                assert not bulk.import_row(account, index + 2, row, actor=actor, ip=None).errors

    def coalesced(text: str) -> None:
        outcome = bulk.import_extensions(account, text, actor=actor)
        assert not outcome.errors, outcome.errors[:3]

    def clean() -> None:
        with transaction.atomic():
            with schema_context(account.schema_name):
                Extension.objects.all().delete()
            rebuild(account)

    results = []
    runs = () if args.only_update else (
        ("per row, each committed (as single creates)", args.committed_rows or args.rows, per_row_committed,
         True),
        ("coalesced: pbx.bulk.import_extensions", args.rows, coalesced, False),
        ("per row, in one transaction (no coalescing)", args.one_transaction_rows, per_row_one_transaction,
         False),
        ("coalesced: pbx.bulk.import_extensions", args.one_transaction_rows, coalesced, False),
    )
    for name, rows, work, committed in runs:
        text = make_csv(rows)
        rebuilds[0] = 0
        if committed:
            start = time.perf_counter()
            work(text)
            seconds = time.perf_counter() - start
            indexed = DirectoryEntry.objects.filter(account=account).count()
            clean()
        else:
            try:
                with transaction.atomic():
                    start = time.perf_counter()
                    work(text)
                    seconds = time.perf_counter() - start
                    indexed = DirectoryEntry.objects.filter(account=account).count()
                    raise _Rollback
            except _Rollback:
                pass
        results.append((name, rows, seconds, rebuilds[0], indexed))
        print(f"  {name}, {rows} rows: {seconds:.1f} s", file=sys.stderr)

    rows = args.update_rows or args.rows
    text = make_csv(rows)
    renamed = text.replace(",User ", ",Renamed user ")
    try:
        with transaction.atomic():
            rebuilds[0] = 0
            start = time.perf_counter()
            assert not bulk.import_extensions(account, text, actor=actor).errors
            seconds = time.perf_counter() - start
            results.append(("baseline: the same file imported into the empty account (creates)", rows,
                            seconds, rebuilds[0], DirectoryEntry.objects.filter(account=account).count()))
            for name, again in (("existing=update, the same file (every row unchanged)", text),
                                ("existing=update, every row's name changed", renamed)):
                rebuilds[0] = 0
                start = time.perf_counter()
                outcome = bulk.import_extensions(account, again, actor=actor, existing="update")
                seconds = time.perf_counter() - start
                assert not outcome.errors, outcome.errors[:3]
                indexed = DirectoryEntry.objects.filter(account=account).count()
                results.append((name, rows, seconds, rebuilds[0], indexed))
                print(f"  {name}, {rows} rows: {seconds:.1f} s", file=sys.stderr)
            raise _Rollback
    except _Rollback:
        pass

    print(f"Machine: {machine()}; load {os.getloadavg()[0]:.1f} (1-min average at the end, shared machine)")
    print("Each row: an extension, its voicemail box with an e-mail, one device; commit excluded.\n")
    print("| signals | rows | seconds | rows/s | directory index rebuilds | index rows after |")
    print("|---|---|---|---|---|---|")
    for name, rows, seconds, count_, indexed in results:
        print(f"| {name} | {rows:,} | {seconds:.1f} | {rows / seconds:.0f} | {count_:,} | {indexed:,} |")


if __name__ == "__main__":
    main()
