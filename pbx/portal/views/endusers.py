"""The admin's side of My phone, on an extension's page: invite the employee (a login
bound to the extension, e-mailed a link to choose a password), send the link again,
and enable or disable that login. Inviting is the admin's (``authorize``); enabling and
disabling is also the user-activation role's (``tenants.actions.do_set_user_active``),
which may do nothing else here."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from pbx.actions.endusers import do_invite_end_user, login_of
from pbx.models import Extension
from pbx.portal.views.base import PortalPage
from tenants.actions import do_set_user_active
from tenants.models import Role, User

TOGGLING_ROLES = (Role.ADMIN, Role.USER_ACTIVATION)


def login_context(account, extension: Extension, actor: User) -> dict:
    """What the extension's page shows of its employee's login."""
    login = login_of(account, extension)
    return {"end_user": login,
            "end_user_waiting": login is not None and not login.has_usable_password(),
            "may_toggle_end_user": (login is not None and actor.role in TOGGLING_ROLES
                                    and login.pk != actor.pk)}


class ExtensionLoginView(PortalPage):
    """POST only (``operation``: invite, enable, disable); a GET goes back to the
    extension's page."""

    model = Extension
    verbose_name = "extension"
    verbose_name_plural = "extensions"
    list_url_name = "portal:extension-list"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("portal:extension-edit", pk=self.get_object(pk).pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        extension = self.get_object(pk)
        operation = request.POST.get("operation", "")
        if operation == "invite":
            try:
                user = do_invite_end_user(
                    request.tenant, extension, email=request.POST.get("email", "").strip(),
                    username=request.POST.get("username", "").strip(), **self.writer)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, f"Not invited: {message}")
            else:
                messages.success(request, f"Invitation sent to {user.email}: {user.username} chooses a "
                                          "password from the link in it.")
        elif operation in ("enable", "disable"):
            user = login_of(request.tenant, extension)
            if user is None:
                raise Http404("This extension has no login")
            do_set_user_active(self.identity.user, user, operation == "enable", ip=self.client_ip())
            messages.success(request, f"Login {user.username} {operation}d.")
        else:
            return HttpResponse("Unknown operation.", status=400)
        return redirect("portal:extension-edit", pk=extension.pk)
