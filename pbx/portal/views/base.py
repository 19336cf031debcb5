"""What every portal page shares, on top of the project's generic pages
(``switchboard.views``): the portal's identity (``access.portal_identity``: the tenant's
own staff, or an ancestor's admin using the account) and the actions' role check.

The connection is already in ``request.tenant``'s schema (django-tenants), so a page's
queryset holds only this tenant's rows: another tenant's id is simply not found (404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render

from pbx.actions.crud import ADMINS, authorize
from pbx.portal.access import PortalIdentity, portal_identity
from switchboard.views import Identity, ObjectDeleteView, ObjectEditView, ObjectListView, ObjectView
from tenants.http import client_ip
from tenants.models import Role

END_USER_PAGE_REFUSAL = ("This page is for the account's administrators; your login manages "
                         "your own phone (My phone).")


class PortalPage(ObjectView):
    base_template = "portal/base.html"
    # The staff roles its actions let write (``pbx.actions.crud.authorize``'s ``roles``):
    # the write buttons show, and its POSTs pass, for those only (the queue pages add the
    # supervisor, like the queue actions).
    writers: tuple[str, ...] = ADMINS

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        identity = self.identify(request)
        if identity is not None and identity.user.role == Role.END_USER:
            # An employee's own login has My phone, none of the admin's pages: refused
            # like a read-only write (403), reading included, on My phone's layout (the
            # admin's navigation would only lead to more refusals).
            self.identity = identity
            return render(request, "portal/myphone/refused.html", {"reason": END_USER_PAGE_REFUSAL},
                          status=403)
        return super().dispatch(request, *args, **kwargs)

    def identify(self, request: HttpRequest) -> PortalIdentity | None:
        identity = portal_identity(request)
        if identity is not None:
            request.portal = identity
        return identity

    def sign_in_response(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in, but not for this tenant (or no longer allowed): drop it.
            logout(request)
        return redirect(f"/login/?next={request.path}")

    def authorize(self, identity: Identity) -> None:
        authorize(identity.user, identity.account, roles=self.writers)

    def client_ip(self) -> str | None:
        return client_ip(self.request)

    @property
    def writer(self) -> dict:
        """The keyword arguments every action takes: who, from where."""
        return {"actor": self.identity.user, "ip": self.client_ip()}


class PortalListView(PortalPage, ObjectListView):
    pass


class PortalEditView(PortalPage, ObjectEditView):
    pass


class PortalDeleteView(PortalPage, ObjectDeleteView):
    pass
