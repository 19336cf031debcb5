"""Password reset for portal users: only a user of the host's own account is found by
their e-mail, so a reset asked on one tenant's host never mails another tenant's user
(and the page says the same thing either way)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.forms import PasswordResetForm

from tenants.models import Account, User


class PortalPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, tenant: Account, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["email"].help_text = "The e-mail address of your sign-in."

    def get_users(self, email: str) -> Iterator[User]:
        # Django's own rules (active, a usable password: an invited employee who never
        # chose one uses the invitation's link), narrowed to this host's account.
        for user in super().get_users(email):
            if user.account_id == self.tenant.pk:
                yield user
