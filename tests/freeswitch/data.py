"""Committed platform data for the real-FreeSWITCH tests, written through the actions as
the admin and portal write it (so the directory index, cache invalidation and node
commands follow). ``fs.data`` is one :class:`Platform` per test; the ``fs`` fixture
removes everything afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

from pbx.actions import do_add_device, do_create_extension
from pbx.models import Extension
from tenants.actions import do_bootstrap_master, do_create_account
from tenants.models import Account, User

ADMIN_PASSWORD = "a-long-test-password"


@dataclass(frozen=True)
class Device:
    username: str
    secret: str
    extension: str


@dataclass
class Customer:
    account: Account
    domain: str
    aliases: list[str]
    devices: dict[str, Device] = field(default_factory=dict)

    def extension(self, number: str, *, devices: int = 1, name: str | None = None, **fields) -> Extension:
        """Extension ``number`` with ``devices`` SIP devices (usernames ``number``,
        ``number-2``, ... as the action names them); their secrets in ``self.devices``."""
        name = name or f"{self.account.name} {number}"
        extension = do_create_extension(self.account, number=number, name=name, **fields)
        for _ in range(devices):
            self.add_device(extension)
        return extension

    def add_device(self, extension: Extension, **fields) -> Device:
        created, secret = do_add_device(self.account, extension, **fields)
        device = Device(created.username, secret, extension.number)
        self.devices[device.username] = device
        return device

    def secret(self, username: str) -> str:
        return self.devices[username].secret


class Platform:
    """The master account (bootstrapped on first use) and its customers."""

    def __init__(self) -> None:
        self._admin: User | None = None
        self.customers: dict[str, Customer] = {}

    @property
    def admin(self) -> User:
        if self._admin is None:
            do_bootstrap_master(name="Provider", domains=["localhost", "127.0.0.1"],
                                admin_username="master_admin", admin_password=ADMIN_PASSWORD)
            self._admin = User.objects.get(username="master_admin")
        return self._admin

    def customer(self, slug: str, *, domain: str | None = None, aliases: list[str] | None = None,
                 **fields) -> Customer:
        """A customer of the master, SIP domain ``<slug>.example.net`` with the alias
        ``<slug>.localhost`` unless told otherwise."""
        domain = domain or f"{slug}.example.net"
        aliases = [f"{slug}.localhost"] if aliases is None else aliases
        account = do_create_account(self.admin, parent=self.admin.account, name=slug.title(), domain=domain,
                                    aliases=aliases, **fields)
        customer = Customer(account, domain, aliases)
        self.customers[slug] = customer
        return customer
