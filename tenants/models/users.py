"""Staff users: they live in the public schema and belong to one account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Account admin (full access)"
    READ_ONLY = "read_only", "Read only"
    USER_ACTIVATION = "user_activation", "User activation (enable/disable users only)"
    SUPERVISOR = "supervisor", "Call-center supervisor"
    # An employee's own login, bound to one extension ("My phone"): no admin rights at
    # all, only their own extension's settings, messages and calls.
    END_USER = "end_user", "Employee (My phone: own extension only)"


class User(AbstractUser):
    account = models.ForeignKey(
        "tenants.Account", on_delete=models.PROTECT, related_name="users", null=True
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    # The extension an end user's login is bound to. Users live in the public schema and
    # extensions in the account's, so this is the extension's primary key in
    # ``account``'s schema, not a foreign key; pbx.actions.endusers writes it and the
    # extension's delete action clears it (and disables the login).
    extension_pk = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["username"]
        constraints = [
            # One login per extension (an account's extension pks are its own schema's).
            models.UniqueConstraint(fields=["account", "extension_pk"], name="one_login_per_extension",
                                    condition=models.Q(extension_pk__isnull=False)),
            models.CheckConstraint(
                condition=models.Q(role="end_user") | models.Q(extension_pk__isnull=True),
                name="only_end_users_are_bound"),
        ]

    @property
    def may_write(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_end_user(self) -> bool:
        return self.role == Role.END_USER

    def is_bound_to(self, account_pk: int, extension_pk: int) -> bool:
        """This is the end user's login of that extension of that account."""
        return (self.role == Role.END_USER and self.extension_pk is not None
                and self.account_id == account_pk and self.extension_pk == extension_pk)

    @property
    def may_use_admin(self) -> bool:
        """The Django admin is the master's and resellers' tool."""
        return (
            self.is_active
            and self.account is not None
            and self.account.can_have_children
            and self.role in (Role.ADMIN, Role.READ_ONLY, Role.USER_ACTIVATION)
        )
