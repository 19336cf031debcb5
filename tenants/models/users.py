"""Staff users: they live in the public schema and belong to one account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Account admin (full access)"
    READ_ONLY = "read_only", "Read only"
    USER_ACTIVATION = "user_activation", "User activation (enable/disable users only)"
    SUPERVISOR = "supervisor", "Call-center supervisor"


class User(AbstractUser):
    account = models.ForeignKey(
        "tenants.Account", on_delete=models.PROTECT, related_name="users", null=True
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)

    class Meta:
        ordering = ["username"]

    @property
    def may_write(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def may_use_admin(self) -> bool:
        """The Django admin is the master's and resellers' tool."""
        return (
            self.is_active
            and self.account is not None
            and self.account.can_have_children
            and self.role in (Role.ADMIN, Role.READ_ONLY, Role.USER_ACTIVATION)
        )
