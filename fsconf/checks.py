"""System checks for the FreeSWITCH-facing settings (``manage.py check --deploy``)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def allowed_networks_parse(app_configs, **kwargs):
    errors = []
    for item in settings.FREESWITCH_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            errors.append(Error(f"FREESWITCH_ALLOWED_NETWORKS: {item!r} is not a network.",
                                id="fsconf.E001"))
    return errors


@register(deploy=True)
def production_secrets(app_configs, **kwargs):
    found = []
    if not settings.FREESWITCH_GATEWAY_CREDENTIALS:
        found.append(Error(
            "FREESWITCH_GATEWAY_CREDENTIALS is empty: the endpoint that serves every tenant's "
            "SIP credentials relies on the address allowlist alone.",
            hint="Set it to the xml_curl binding's gateway-credentials (user:password).",
            id="fsconf.E002"))
    if not settings.SIP_SECRET_ENCRYPTION_KEY:
        found.append(Warning(
            "SWITCHBOARD_SIP_SECRET_KEY is unset: SIP secrets are encrypted with "
            "DJANGO_SECRET_KEY, and rotating that key would lock every phone out.",
            id="fsconf.W001"))
    return found
