from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError

from tenants.actions import do_bootstrap_master


class Command(BaseCommand):
    help = "Create the master account (the provider) and its first admin. Runs once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--domain", action="append", required=True,
            help="The admin hostname; repeat for aliases (e.g. localhost, 127.0.0.1).",
        )
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--admin-email", default="")

    def handle(self, *args, **options):
        try:
            master = do_bootstrap_master(
                name=options["name"], domains=options["domain"],
                admin_username=options["admin_username"],
                admin_password=options["admin_password"], admin_email=options["admin_email"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Master account {master.name} created.")
