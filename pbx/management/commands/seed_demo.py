"""Demo data for the run command: idempotent, so every start can call it. It lives in pbx,
the highest of the apps it fills (accounts and staff, the platform trunk, numbers, the
PBX), since it imports all three."""

from django.core.management import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from carriers.demo import demo_platform_trunk
from pbx.actions import do_add_device, do_create_extension
from pbx.actions.endusers import do_invite_end_user
from pbx.demo import showcase
from pbx.models import Extension
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tenants.actions import do_bootstrap_master, do_create_account, do_create_staff_user
from tenants.demo import PASSWORDS
from tenants.models import Account, PhoneNumber, Role, User

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
            # Canadian companies, as their numbers and time zones say: a Toronto number is
            # local for Acme, a US one international (carriers.numbering reads regions).
            aliases=["acme.localhost"], timezone="America/Toronto", country="CA",
            outbound_caller_id="+14165550100", emergency_caller_id="+14165550100",
            admin_user={"username": "acme-admin", "password": PASSWORDS["acme-admin"]},
        )
        self._account(
            admin, parent=master, name="Beta Ltd", domain="beta.example.net",
            aliases=["beta.localhost"], timezone="America/Vancouver", country="CA",
            outbound_caller_id="+16045550199", emergency_caller_id="+16045550199",
            admin_user={"username": "beta-admin", "password": PASSWORDS["beta-admin"]},
        )
        if not User.objects.filter(username="acme-readonly").exists():
            do_create_staff_user(
                reseller_admin, account=Account.objects.get(name="Acme Corp"),
                username="acme-readonly", password=PASSWORDS["acme-readonly"], role=Role.READ_ONLY,
            )
        for name in ("Acme Corp", "Beta Ltd"):
            self._extensions(Account.objects.get(name=name, deleted_at__isnull=True))
        acme = Account.objects.get(name="Acme Corp", deleted_at__isnull=True)
        self._employee(acme, "acme-alice", "1001")
        self._main_number(admin, "+14165550100", [reseller, acme])
        self._main_number(admin, "+16045550199", [Account.objects.get(name="Beta Ltd")])
        self._showcase(acme, "+14165550100")
        self._platform_trunk(admin)
        self.stdout.write("Demo data ready.")

    def _main_number(self, master_admin, e164, chain):
        """Import into the pool, hand down the chain of accounts, route to extension 1001."""
        if PhoneNumber.objects.filter(e164=e164).exists():
            return
        (number,) = do_import_numbers(master_admin, [e164])
        actor = master_admin
        for account in chain:
            number = do_assign_number(actor, number, account)
            actor = account.users.filter(role=Role.ADMIN).order_by("pk").first()
        with schema_context(chain[-1].schema_name):
            first = Extension.objects.get(number="1001")
        do_route_number(chain[-1], number, route=f"extension:{first.pk}")

    def _showcase(self, account, e164):
        """Acme shows every PBX feature; its main number goes through the office-hours
        schedule to the main menu."""
        route = showcase(account)
        if route is not None:
            do_route_number(account, PhoneNumber.objects.get(e164=e164), route=route)

    def _platform_trunk(self, master_admin):
        """A platform trunk to a placeholder test carrier (carriers/demo.py), so outside
        calls and 911 reach a gateway instead of NO_ROUTE_DESTINATION."""
        demo_platform_trunk(master_admin)

    def _extensions(self, account):
        """1001-1005 in both customers: the same numbers in two tenants, no clash. Each
        device's SIP password is <domain-label>-<number>-secret (demo only)."""
        label = account.primary_domain_name.split(".")[0]
        people = ["Alice Martin", "Bob Chen", "Carla Diaz", "Dev Patel", "Front Desk"]
        for number, person in zip(range(1001, 1006), people, strict=True):
            with schema_context(account.schema_name):
                if Extension.objects.filter(number=str(number)).exists():
                    continue
            extension = do_create_extension(account, number=str(number), name=person,
                                            voicemail_pin=f"{number}9")
            do_add_device(account, extension, secret=f"{label}-{number}-secret", label="Desk phone")

    def _employee(self, account, username, number):
        """An employee's own login (My phone) bound to extension ``number``, as if the
        admin had invited them and they had chosen the demo password (no e-mail sent)."""
        if User.objects.filter(username=username).exists():
            return
        with schema_context(account.schema_name):
            extension = Extension.objects.get(number=number)
        employee = do_invite_end_user(account, extension, email=f"{username}@example.net",
                                      username=username, send=False)
        employee.set_password(PASSWORDS[username])
        employee.save(update_fields=["password"])

    def _account(self, actor, *, parent, name, **kwargs):
        existing = Account.objects.filter(name=name, deleted_at__isnull=True).first()
        if existing:
            return existing
        account = do_create_account(actor, parent=parent, name=name, **kwargs)
        self.stdout.write(f"created {account.kind} {name}")
        return account
