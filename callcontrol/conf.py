"""Call-control settings, with their defaults (override in Django settings or, for the
listen address, the CALLCONTROL_LISTEN environment variable)."""

from __future__ import annotations

import os

from django.conf import settings


def listen_address() -> tuple[str, int]:
    """``CALLCONTROL_LISTEN`` as (host, port); "127.0.0.1:8084", "[::1]:8084", ":8084"."""
    value = getattr(settings, "CALLCONTROL_LISTEN", None) or os.environ.get(
        "CALLCONTROL_LISTEN", "127.0.0.1:8084")
    return parse_address(value)


def parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"CALLCONTROL_LISTEN must be host:port, not {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def setting(name: str, default):
    return getattr(settings, name, default)


# The channel variable (set by the dialplan before ``socket``) naming the app to run.
APP_VARIABLE = "switchboard_app"
# Played to a call whose app is unknown, before hanging up with UNALLOCATED_NUMBER.
UNKNOWN_APP_PROMPT = "ivr/ivr-call_cannot_be_completed_as_dialed.wav"
# Modules whose @register'ed apps the server runs.
APP_MODULES = (
    "callcontrol.apps.demo",
    "callcontrol.apps.privacy",
    "callcontrol.apps.ivr",
    "callcontrol.apps.directory",
    "callcontrol.apps.followme",
    "callcontrol.apps.conference",
    "callcontrol.apps.queue_agent",
    "callcontrol.apps.forwarding",
)
