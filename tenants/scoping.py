"""What a staff user may see and do in the account tree.

A user sees their own account and everything below it. They manage (create under,
edit, suspend, delete) only accounts strictly below their own: nobody raises their own
limits or lifts their own suspension. Structural changes (create or promote a reseller,
demote, move) are the master's alone.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from tenants.models import Account, Role, User


class NotInSubtree(Account.DoesNotExist):
    """Raised for an account outside the user's subtree: callers answer 404, never 403,
    so the existence of other tenants is not revealed."""


def visible_accounts(user: User):
    if not user.is_authenticated or user.account is None:
        return Account.objects.none()
    return Account.objects.live().subtree_of(user.account)


def visible_account(user: User, pk) -> Account:
    try:
        return visible_accounts(user).get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError) as exc:
        raise NotInSubtree from exc


def require_visible(user: User, account: Account) -> None:
    if user.account is None or account.is_deleted or not account.is_within(user.account):
        raise NotInSubtree


def require_manager_of(user: User, account: Account) -> None:
    """``user`` is an admin of a strict ancestor of ``account``."""
    require_visible(user, account)
    if account.pk == user.account_id and not user.account.is_master:
        raise PermissionDenied("You cannot change your own account; ask your provider.")
    if user.role != Role.ADMIN:
        raise PermissionDenied("Your role is read-only for accounts.")


def require_master_admin(user: User) -> None:
    if user.account is None or not user.account.is_master or user.role != Role.ADMIN:
        raise PermissionDenied("Only the master account's admins may do this.")


def may_manage(user: User, account: Account) -> bool:
    try:
        require_manager_of(user, account)
    except (PermissionDenied, NotInSubtree):
        return False
    return True


def may_change_user(actor: User, target: User) -> bool:
    return (
        actor.role == Role.ADMIN
        and target.account is not None
        and target.account.is_within(actor.account)
    )


def may_toggle_user(actor: User, target: User) -> bool:
    """Admins enable/disable users in their subtree; user-activation staff only the
    employees' own logins there (``Role.END_USER``: seed 002's role "allows billing
    department to enable or disable users only", users as opposed to admins of any admin
    type), never an admin, read-only, supervisor or user-activation login. Nobody
    themselves (so the last admin cannot lock themselves out by accident)."""
    return (
        (actor.role == Role.ADMIN
         or (actor.role == Role.USER_ACTIVATION and target.role == Role.END_USER))
        and target.pk != actor.pk
        and target.account is not None
        and target.account.is_within(actor.account)
    )
