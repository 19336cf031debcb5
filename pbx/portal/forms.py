from django import forms
from django.contrib.auth.forms import AuthenticationForm


class PortalAuthenticationForm(AuthenticationForm):
    """Staff users are platform-wide; on a tenant host only that tenant's users sign in."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        tenant = self.request.tenant
        if user.account_id != tenant.pk:
            # Same message as a wrong password: do not reveal the user exists elsewhere.
            raise self.get_invalid_login_error()
        if not tenant.is_effectively_active():
            raise forms.ValidationError(
                "This account is suspended. Please contact your provider.", code="suspended"
            )
