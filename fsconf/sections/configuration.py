"""section=configuration. ``sofia.conf`` is answered from the SIP profile files shipped
in deploy/freeswitch (the same ones FreeSWITCH's static fallback includes) with every
trunk gateway added to the trunk profile; the modules of BUILDERS from the model;
everything else is not found, so FreeSWITCH uses its static file, until the feature it
configures exists here.

mod_xml_curl parses our answer with ``switch_xml_parse_file``, which runs the
pre-processor, so ``$${...}`` variables in the profiles are expanded from vars.xml as
they are in the static files.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from lxml import etree

from carriers.models import Gateway
from common.secrets import decrypt_secret
from fsconf.documents import NOT_FOUND, new_document, serialize, xml_safe
from fsconf.request import FetchRequest
from fsconf.sections.conf_callcenter import callcenter_conf
from fsconf.sections.conf_conference import conference_conf
from fsconf.sections.conf_local_stream import local_stream_conf
from fsconf.sections.conf_voicemail import voicemail_conf
from tenants.models import Account
from tenants.tenancy import blocked_ancestor


def cache_identity(fetch: FetchRequest) -> tuple[str, ...]:
    # CC-Queue: mod_callcenter loading one queue (fsconf.sections.conf_callcenter).
    return ("configuration", fetch.key_value, fetch.get("profile"), fetch.get("CC-Queue"))


def answer(fetch: FetchRequest) -> bytes:
    build = BUILDERS.get(fetch.key_value)
    return build(fetch) if build is not None else NOT_FOUND


def sofia_conf(only_profile: str = "") -> bytes:
    profiles = _profiles(str(settings.SOFIA_PROFILES_DIR), _profiles_version())
    if only_profile:
        profiles = [p for p in profiles if p.get("name") == only_profile]
        if not profiles:
            return NOT_FOUND
    root, section = new_document("configuration")
    configuration = etree.SubElement(section, "configuration", name="sofia.conf",
                                     description="sofia Endpoint")
    global_settings = etree.SubElement(configuration, "global_settings")
    for name, value in (("log-level", "0"), ("debug-presence", "0")):
        etree.SubElement(global_settings, "param", name=name, value=value)
    holder = etree.SubElement(configuration, "profiles")
    for template in profiles:
        profile = copy.deepcopy(template)
        if profile.get("name") == settings.TRUNK_PROFILE:
            gateways = profile.find("gateways")
            if gateways is None:
                gateways = etree.SubElement(profile, "gateways")
            for gateway in serving_gateways():
                gateways.append(gateway_element(gateway))
        holder.append(profile)
    return serialize(root)


def serving_gateways() -> list[Gateway]:
    """Enabled gateways of enabled trunks whose account may serve (active, not deleted,
    nothing above it suspended or deleted), in one query."""
    return list(
        Gateway.objects.filter(enabled=True, trunk__enabled=True,
                               trunk__account__deleted_at__isnull=True,
                               trunk__account__status=Account.Status.ACTIVE)
        .annotate(blocked=blocked_ancestor("trunk__account")).filter(~Q(blocked=True))
        .select_related("trunk").order_by("pk")
    )


def gateway_element(gateway: Gateway) -> etree._Element:
    element = etree.Element("gateway", name=gateway.freeswitch_name)
    password = decrypt_secret(gateway.password_encrypted) if gateway.password_encrypted else None
    proxy = f"{gateway.server}:{gateway.port}"
    if gateway.transport != "udp":
        proxy += f";transport={gateway.transport}"
    params = {
        # sofia wants credentials even for a gateway that never registers.
        "username": gateway.username or "switchboard",
        "password": password or "unused",
        "realm": gateway.realm or gateway.server,
        "from-domain": gateway.realm or gateway.server,
        "proxy": proxy,
        "register": "true" if gateway.register else "false",
        "register-transport": gateway.transport,
        "caller-id-in-from": "true",
        # The trunk's pinging (carriers.models.Trunk.sofia_ping_params); none: always up.
        **gateway.trunk.sofia_ping_params,
        "context": "public",
    }
    for name, value in params.items():
        etree.SubElement(element, "param", name=name, value=xml_safe(value))
    if gateway.codecs:
        variables = etree.SubElement(element, "variables")
        etree.SubElement(variables, "variable", name="absolute_codec_string",
                         value=",".join(gateway.codecs), direction="outbound")
    return element


def _profiles_version() -> tuple[tuple[str, float], ...]:
    directory = Path(settings.SOFIA_PROFILES_DIR)
    return tuple(sorted((p.name, p.stat().st_mtime) for p in directory.glob("*.xml")))


@cache
def _profiles(directory: str, version: tuple) -> list[etree._Element]:
    """The <profile> elements of the profile files, parsed once per change of the files."""
    parser = etree.XMLParser(remove_comments=True, remove_blank_text=True, resolve_entities=False)
    profiles = []
    for name, _ in version:
        root = etree.parse(str(Path(directory) / name), parser).getroot()
        profiles += [root] if root.tag == "profile" else root.findall("profile")
    return profiles


# One entry per module configuration we answer (key_value → builder); each builder lives
# in its own module unless it is sofia.conf's.
BUILDERS: dict[str, Callable[[FetchRequest], bytes]] = {
    "sofia.conf": lambda fetch: sofia_conf(fetch.get("profile")),
    "voicemail.conf": voicemail_conf,
    "local_stream.conf": local_stream_conf,
    "conference.conf": conference_conf,
    "callcenter.conf": callcenter_conf,
}
