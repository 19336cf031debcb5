from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from tenants.actions import do_purge_account
from tenants.models import Account


class Command(BaseCommand):
    help = (
        "Irreversibly remove soft-deleted accounts: schema, domains, users. Without --yes it "
        "only lists what it would purge."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Purge only this account id.")
        parser.add_argument(
            "--older-than-days", type=int, default=0,
            help="Only accounts deleted at least this many days ago.",
        )
        parser.add_argument("--yes", action="store_true", help="Really purge.")

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(days=options["older_than_days"])
        candidates = Account.objects.filter(deleted_at__isnull=False, deleted_at__lte=cutoff)
        if options["account"]:
            candidates = candidates.filter(pk=options["account"])
            if not candidates.exists():
                raise CommandError(f"Account {options['account']} is not a deleted account.")
        # Deepest first so children go before their parents.
        accounts = sorted(candidates, key=lambda a: -a.depth)
        for account in accounts:
            label = f"{account.pk} {account.name} (schema {account.schema_name})"
            if not options["yes"]:
                self.stdout.write(f"would purge {label}")
                continue
            try:
                do_purge_account(account)
            except ValidationError as exc:
                self.stderr.write(f"skipped {label}: {'; '.join(exc.messages)}")
                continue
            self.stdout.write(f"purged {label}")
        if not accounts:
            self.stdout.write("Nothing to purge.")
