import time

from django.core.management import BaseCommand

from fsconf.directory_index import rebuild_all
from tenants.models import Account


class Command(BaseCommand):
    help = (
        "Rebuild the public directory index (what FreeSWITCH's directory lookups read) from "
        "every account's PBX tables, or only the given accounts'. PBX writes keep it current; "
        "this is for data written around the actions layer: tenant migrations (migrate_all "
        "runs it), bulk loads, restores."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, nargs="+", help="account ids (default: all)")

    def handle(self, *args, **options):
        accounts = None
        if options["account"]:
            accounts = Account.objects.filter(pk__in=options["account"]).order_by("pk")
        log = self.stdout.write if options["verbosity"] > 1 else None
        start = time.perf_counter()
        done = rebuild_all(accounts, log=log)
        if options["verbosity"]:
            self.stdout.write(f"Directory index rebuilt for {done} account(s) "
                              f"in {time.perf_counter() - start:.1f} s.")
