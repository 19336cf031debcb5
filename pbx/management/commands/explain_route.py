"""manage.py explain_route <account domain> <caller> <dialed> [--at ISO-time]"""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pbx.explain import explain_route
from tenants.models import Account, Domain


class Command(BaseCommand):
    help = ("Show the ordered decisions a call would go through: from outside when DIALED is "
            "one of the account's numbers (CALLER is then the outside number), else from the "
            "extension CALLER.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("account", help="The account's SIP domain (or its exact name).")
        parser.add_argument("caller")
        parser.add_argument("dialed")
        parser.add_argument("--at", help="When the call is made (ISO 8601; default now).")

    def handle(self, *args, account: str, caller: str, dialed: str, at: str | None, **options) -> None:
        found = (Domain.objects.filter(domain=account.lower()).select_related("tenant").first())
        tenant = found.tenant if found else Account.objects.filter(name=account, deleted_at=None).first()
        if tenant is None or tenant.is_master:
            raise CommandError(f"No customer account {account!r}.")
        moment = timezone.now()
        if at:
            try:
                moment = datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at: {exc}") from exc
            if timezone.is_naive(moment):
                raise CommandError("--at needs a UTC offset, e.g. 2026-12-24T09:30:00-05:00.")
        for decision in explain_route(tenant, caller, dialed, moment):
            self.stdout.write(str(decision))
