"""Call queues as FreeSWITCH's mod_callcenter knows them: the names of queues and agents,
an agent's contact, and the ``callcenter_config`` commands that bring running nodes in
step with a change (pbx.signals.callcenter_changed carries them to fsnodes).

mod_callcenter's names are global on a node, so they carry the tenant's primary SIP
domain (as conference names do) and primary keys rather than numbers, so renumbering a
queue or an extension renames nothing:

* queue ``queue-<queue pk>@<domain>``;
* agent ``agent-<queue pk>-<extension pk>@<domain>``: one per membership, so a queue's
  agent timing applies to it and logging in or pausing is per queue.

What a command does there (mod_callcenter.c, ``cc_config_api_function``): ``queue
reload`` drops the queue and loads it again from callcenter.conf (a fetch carrying
``CC-Queue``) with every agent and tier of that answer, updating existing ones; nothing
there deletes an agent or a tier, hence the explicit ``tier del`` / ``agent del``.
"""

from __future__ import annotations

import os
import re

from django.conf import settings

_QUEUE_NAME = re.compile(r"^queue-(\d{1,12})@([a-z0-9][a-z0-9.\-]{0,252})$")
DEFAULT_RECORDINGS_DIR = "/var/lib/freeswitch/recordings/queues"


def queue_name(queue_pk: int, domain: str) -> str:
    return f"queue-{queue_pk}@{domain.lower()}"


def parse_queue_name(name: str) -> tuple[int, str] | None:
    """(queue pk, domain) of a name :func:`queue_name` made; None for anything else."""
    match = _QUEUE_NAME.match(name or "")
    return (int(match[1]), match[2]) if match else None


def agent_name(queue_pk: int, extension_pk: int, domain: str) -> str:
    return f"agent-{queue_pk}-{extension_pk}@{domain.lower()}"


def contact(number: str, domain: str, ring_seconds: int) -> str:
    """What mod_callcenter dials for an agent: the extension's phones (the directory's
    dial string), for the queue's ring time; not the extension's own routing, so its
    forwards, do not disturb and voicemail never take a queue call."""
    return f"[leg_timeout={ring_seconds}]user/{number}@{domain.lower()}"


def record_template(schema: str, queue_pk: int) -> str:
    """Where a node records the queue's calls: one folder per tenant schema (which never
    changes) and queue; mod_callcenter expands the variables on the caller's channel."""
    base = getattr(settings, "QUEUE_RECORDINGS_DIR", "") or os.environ.get(
        "QUEUE_RECORDINGS_DIR", DEFAULT_RECORDINGS_DIR)
    return f"{base.rstrip('/')}/{schema}/queue-{queue_pk}/${{strftime(%Y%m%d-%H%M%S)}}-${{uuid}}.wav"


# --- callcenter_config commands (the arguments after "callcenter_config") ------------------


def reload_queue(name: str) -> str:
    return f"queue reload {name}"


def unload_queue(name: str) -> str:
    return f"queue unload {name}"


def remove_agent(queue: str, agent: str) -> list[str]:
    return [f"tier del {queue} {agent}", f"agent del {agent}"]


def set_status(agent: str, status: str) -> str:
    # mod_callcenter splits its arguments on spaces, keeping quoted ones whole.
    return f"agent set status {agent} '{status}'"
