"""Forgotten passwords, with Django's own reset views and tokens, bound to the host:

- the form finds only users of this host's account (``PortalPasswordResetForm``), and the
  page after it says the same whether a mail was sent or not;
- the mailed link points at this host, and on any other host it is an invalid link
  (``get_user`` finds only this account's users), so a link cannot be used to sign in
  where its user does not belong;
- asking is throttled per address (``RESET_LIMIT`` an hour), as signing in is.

The tokens are Django's: they expire (PASSWORD_RESET_TIMEOUT) and stop working once the
password changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from pbx.portal.forms.passwords import PortalPasswordResetForm
from tenants.http import client_ip
from tenants.models import User

RESET_LIMIT = 5  # reset requests per address and hour, on one host
RESET_WINDOW_SECONDS = 3600


class PortalPasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/password_reset_email.txt"
    subject_template_name = "portal/password_reset_subject.txt"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("portal:password-reset-done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def form_valid(self, form: PortalPasswordResetForm) -> HttpResponse:
        key = f"portal:password-reset:{self.request.tenant.schema_name}:{client_ip(self.request)}"
        cache.add(key, 0, RESET_WINDOW_SECONDS)
        if cache.incr(key) > RESET_LIMIT:
            return render(self.request, "portal/password_reset_throttled.html", status=429)
        # The link names this host (no sites framework: Django takes the request's host),
        # the tenant's own, where its users sign in.
        self.extra_email_context = {"tenant": self.request.tenant}
        return super().form_valid(form)


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password-reset-complete")
    post_reset_login = False

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        tenant = getattr(self.request, "tenant", None)
        if user is None or tenant is None or user.account_id != tenant.pk:
            return None  # another host's user: this link is invalid here
        return user


class PortalPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
