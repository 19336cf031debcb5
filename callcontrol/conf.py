"""Call-control settings, with their defaults (override in Django settings). The listen
address is a project setting (``CALLCONTROL_LISTEN``, from the environment), because the
dialplan (fsconf) hands it to FreeSWITCH too."""

from __future__ import annotations

from django.conf import settings

from esl.addresses import parse_address


def listen_address() -> tuple[str, int]:
    """``CALLCONTROL_LISTEN`` as (host, port); "127.0.0.1:8084", "[::1]:8084", ":8084"."""
    return parse_address(settings.CALLCONTROL_LISTEN, "CALLCONTROL_LISTEN")


def setting(name: str, default):
    return getattr(settings, name, default)


# The channel variable (set by the dialplan before ``socket``) naming the app to run.
APP_VARIABLE = "switchboard_app"
# Played to a call whose app is unknown, before hanging up with UNALLOCATED_NUMBER.
UNKNOWN_APP_PROMPT = "ivr/ivr-call_cannot_be_completed_as_dialed.wav"
# When an app cannot reach the database: the channel variable by which the dialplan says
# it planned what to do instead, in the actions after ``socket`` (call control then lets
# FreeSWITCH go on with them); without it, this is played (the special information tone,
# "the call cannot be completed", which needs no sound files) before a hangup with
# NORMAL_TEMPORARY_FAILURE.
# The dialplan sets it (pbx.routing.APP_FALLBACK_VARIABLE, the same name: this module is
# read while settings load, before models can be imported; a test holds them equal).
FALLBACK_VARIABLE = "switchboard_fallback"
UNAVAILABLE_PROMPT = "tone_stream://%(274,0,913.8);%(274,0,1370.6);%(380,0,1776.7)"
UNAVAILABLE_CAUSE = "NORMAL_TEMPORARY_FAILURE"
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
