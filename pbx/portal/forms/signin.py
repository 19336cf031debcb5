from django import forms
from django.contrib.auth.forms import AuthenticationForm

from tenants.throttling import ThrottledSignInFormMixin, count_as_failed_sign_in


class PortalAuthenticationForm(ThrottledSignInFormMixin, AuthenticationForm):
    """Staff users are platform-wide; on a tenant host only that tenant's users sign in."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        tenant = self.request.tenant
        if user.account_id != tenant.pk:
            # Same message as a wrong password, and counted as one by the sign-in
            # throttle: do not reveal the user exists elsewhere.
            count_as_failed_sign_in(self.request, user.get_username())
            raise self.get_invalid_login_error()
        if not tenant.is_effectively_active():
            raise forms.ValidationError(
                "This account is suspended. Please contact your provider.", code="suspended"
            )
