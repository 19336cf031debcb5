"""Demo data for the run command: idempotent, so every start can call it."""

from django.core.management import BaseCommand
from django.db import transaction

from tenants.actions import do_bootstrap_master, do_create_account, do_create_staff_user
from tenants.demo import PASSWORDS
from tenants.models import Account, Role, User

MASTER = {"name": "Switchboard Demo Provider", "domains": ["localhost", "127.0.0.1"]}


class Command(BaseCommand):
    help = "Create the demo provider, reseller and two customers (skips what exists)."

    @transaction.atomic
    def handle(self, *args, **options):
        master = Account.objects.filter(kind=Account.Kind.MASTER).first()
        if master is None:
            master = do_bootstrap_master(
                name=MASTER["name"], domains=MASTER["domains"],
                admin_username="master", admin_password=PASSWORDS["master"],
                admin_email="master@example.net",
            )
        admin = User.objects.get(username="master")
        reseller = self._account(
            admin, parent=master, name="Northwind Telecom", kind=Account.Kind.RESELLER,
            domain="northwind.example.net", aliases=["northwind.localhost"],
            admin_user={"username": "reseller", "password": PASSWORDS["reseller"],
                        "email": "ops@northwind.example.net"},
        )
        reseller_admin = User.objects.get(username="reseller")
        self._account(
            reseller_admin, parent=reseller, name="Acme Corp", domain="acme.example.net",
            aliases=["acme.localhost"], timezone="America/Toronto",
            outbound_caller_id="+14165550100", emergency_caller_id="+14165550100",
            admin_user={"username": "acme-admin", "password": PASSWORDS["acme-admin"]},
        )
        self._account(
            admin, parent=master, name="Beta Ltd", domain="beta.example.net",
            aliases=["beta.localhost"], timezone="America/Vancouver",
            outbound_caller_id="+16045550199", emergency_caller_id="+16045550199",
            admin_user={"username": "beta-admin", "password": PASSWORDS["beta-admin"]},
        )
        if not User.objects.filter(username="acme-readonly").exists():
            do_create_staff_user(
                reseller_admin, account=Account.objects.get(name="Acme Corp"),
                username="acme-readonly", password=PASSWORDS["acme-readonly"], role=Role.READ_ONLY,
            )
        self.stdout.write("Demo data ready.")

    def _account(self, actor, *, parent, name, **kwargs):
        existing = Account.objects.filter(name=name, deleted_at__isnull=True).first()
        if existing:
            return existing
        account = do_create_account(actor, parent=parent, name=name, **kwargs)
        self.stdout.write(f"created {account.kind} {name}")
        return account
