from pbx.portal.access import portal_identity


def portal(request):
    if getattr(request, "tenant", None) is None or request.tenant.is_master:
        return {}
    return {"portal": portal_identity(request), "tenant": request.tenant}
