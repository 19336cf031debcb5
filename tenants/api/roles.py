"""What each staff role may do, read off the checks the actions themselves make.

The capabilities are not a table kept beside the code: each is one of the predicates the
writes call (``pbx.actions.crud.authorize`` for every PBX write, webhooks and live
conference control, and with the queues' own roles for call queues; ``tenants.scoping``
for staff users and accounts; the API's own checkpoint for reading), asked about a
stand-in user of the role. A role whose rights change in those checks is shown changed
here without an edit; a new role must only be given a description (a test fails until it
is).

The stand-ins live in memory (no query): a reseller with a customer below it, the user
in the reseller and another user in the customer; an employee's login (end user) is
bound to one extension of its own customer account; the users acted on are an admin and
an employee of the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied
from rest_framework import exceptions

from pbx.actions.crud import authorize
from pbx.actions.queues import QUEUE_WRITERS
from switchboard.api.permissions import IdentityCheckpoint
from tenants.identity import Identity
from tenants.models import Account, Role, User
from tenants.scoping import NotInSubtree, may_change_user, may_manage, may_toggle_user

DESCRIPTIONS: dict[str, str] = {
    Role.ADMIN: "Manages the account and, for a reseller or the master, the accounts below it: "
                "everything of their PBX, their staff users and API keys.",
    Role.READ_ONLY: "Sees what an admin sees, in the admin, the portal and the API, and changes nothing.",
    Role.USER_ACTIVATION: "Reads like read-only staff, and activates or deactivates users of the "
                          "account and the accounts below (which ones: its capabilities).",
    Role.SUPERVISOR: "A call-center supervisor's login: reads like read-only staff, and manages the "
                     "call queues (create, change and delete a queue, set its agents) through the "
                     "portal and the API; nothing else.",
    Role.END_USER: "An employee's own login, bound to one extension: My phone in the portal (their "
                   "forwarding, do not disturb, follow-me, voicemail and calls); no admin and no API.",
}


@dataclass(frozen=True)
class Capability:
    code: str
    text: str
    check: Callable[[User, Account, User], bool]


def _passes(check: Callable[[], object]) -> bool:
    try:
        return check() is not False
    except (PermissionDenied, NotInSubtree, exceptions.APIException):
        return False


def _reads_api(user: User, account: Account, _other: User) -> bool:
    identity = Identity(user, account, user.role, False, None, False)
    request = SimpleNamespace(auth=identity, method="GET")
    return _passes(lambda: IdentityCheckpoint().has_permission(request, None))


def _own_phone(user: User, account: Account, _other: User) -> bool:
    own = user.account
    return _passes(lambda: authorize(user, own, extension_pk=user.extension_pk or 1))


CAPABILITIES: tuple[Capability, ...] = (
    Capability("read", "Read the account and the accounts below through the API (and the admin, "
                       "for the master's and resellers' staff).", _reads_api),
    Capability("pbx.write", "Create, change and delete the PBX's objects (extensions, phones, "
                            "voicemail, ring groups, schedules, attendants, rooms, queues, call blocks, "
                            "recordings, webhooks), import extensions, and control live conferences.",
               lambda user, account, _other: _passes(lambda: authorize(user, account))),
    Capability("pbx.queues", "Create, change and delete call queues and set their agents (who, tiers, "
                             "login required).",
               lambda user, account, _other: _passes(lambda: authorize(user, account, roles=QUEUE_WRITERS))),
    Capability("pbx.own_phone", "Change their own extension's forwarding and do not disturb, and "
                                "their own voicemail (My phone).", _own_phone),
    Capability("users.manage", "Add staff users, change them (not their own role), set their "
                               "passwords and make their API keys.",
               lambda user, _account, other: may_change_user(user, other)),
    Capability("users.activate", "Activate and deactivate staff users (never themselves).",
               lambda user, _account, other: may_toggle_user(user, other)),
    Capability("employees.activate", "Activate and deactivate employees' own logins (My phone).",
               lambda user, account, _other: may_toggle_user(user, _employee(account))),
    Capability("accounts.manage", "Create, change, suspend and delete the accounts below their own.",
               lambda user, account, _other: may_manage(user, account)),
    Capability("admin", "Sign in to the provider's admin (staff of the master and of resellers).",
               lambda user, _account, _other: user.may_use_admin),
)
CODES = [capability.code for capability in CAPABILITIES]


def _employee(account: Account) -> User:
    return User(pk=-12, role=Role.END_USER, account=account, extension_pk=2, is_active=True)


def _stand_ins(role: str) -> tuple[User, Account, User]:
    reseller = Account(pk=-2, kind=Account.Kind.RESELLER, path="00010001", status=Account.Status.ACTIVE)
    customer = Account(pk=-3, kind=Account.Kind.CUSTOMER, path="000100010001", status=Account.Status.ACTIVE)
    if role == Role.END_USER:
        user = User(pk=-10, role=role, account=customer, extension_pk=1, is_active=True)
    else:
        user = User(pk=-10, role=role, account=reseller, is_active=True)
    other = User(pk=-11, role=Role.ADMIN, account=customer, is_active=True)
    return user, customer, other


def capabilities_of(role: str) -> list[Capability]:
    user, account, other = _stand_ins(role)
    return [capability for capability in CAPABILITIES if capability.check(user, account, other)]


def roles() -> list[dict]:
    return [{"role": role.value, "label": role.label, "description": DESCRIPTIONS[role],
             "may": [{"code": c.code, "text": c.text} for c in capabilities_of(role)]}
            for role in Role]
