from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pbx.models import Device, Extension, RingGroup
from pbx.portal.access import portal_login_required
from pbx.portal.forms import PortalAuthenticationForm
from tenants.actions import do_accept_masquerade, do_end_masquerade
from tenants.http import client_ip
from tenants.models import Account, PhoneNumber, Role
from tenants.sessions import MASQUERADE_SESSION_KEY


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalAuthenticationForm
    redirect_authenticated_user = False


@require_POST
def portal_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:login")


@portal_login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.portal.user.role == Role.END_USER:
        return redirect("portal:myphone")  # an employee's home is their own phone
    account: Account = request.tenant
    parent = Account.objects.get_parent(account)
    return render(
        request,
        "portal/dashboard.html",
        {
            "account": account,
            "provider": parent,
            "domains": list(account.domains.all()),
            "staff": account.users.filter(is_active=True).order_by("username"),
            "effectively_active": account.is_effectively_active(),
            "counts": _counts(account),
        },
    )


def _counts(account: Account) -> dict[str, int]:
    """What the account has, at a glance (the connection is in its schema)."""
    return {
        "extensions": Extension.objects.count(),
        "devices": Device.objects.count(),
        "ring_groups": RingGroup.objects.count(),
        "numbers": PhoneNumber.objects.filter(account=account).count(),
    }


def masquerade_start(request: HttpRequest) -> HttpResponse:
    """GET shows a button; only the POST (CSRF-protected) signs in, so a link cannot
    sign a browser into someone else's session."""
    if request.method != "POST":
        return render(request, "portal/masquerade_confirm.html",
                      {"token": request.GET.get("token", "")})
    try:
        masquerade = do_accept_masquerade(
            request.POST.get("token", ""), request.tenant, ip=client_ip(request)
        )
    except PermissionDenied as exc:
        return render(request, "portal/masquerade_refused.html", {"reason": str(exc)}, status=403)
    login(request, masquerade.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.set_expiry(settings.MASQUERADE_SESSION_SECONDS)
    master = Account.objects.get(kind=Account.Kind.MASTER)
    request.session[MASQUERADE_SESSION_KEY] = {
        "account_id": request.tenant.pk,
        "grant_id": masquerade.grant_id,
        "return_url": master.portal_url(f"/admin/tenants/account/{request.tenant.pk}/change/"),
    }
    messages.info(request, f"You are now using {request.tenant.name} as its admin.")
    return redirect("portal:dashboard")


@require_POST
@portal_login_required
def masquerade_end(request: HttpRequest) -> HttpResponse:
    masquerade = request.session.get(MASQUERADE_SESSION_KEY) or {}
    if request.portal.masquerading:
        do_end_masquerade(
            request.user, request.tenant, masquerade.get("grant_id", ""), ip=client_ip(request)
        )
    return_url = masquerade.get("return_url") or "/login/"
    logout(request)
    return redirect(return_url)
