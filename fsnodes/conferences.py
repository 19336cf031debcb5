"""Conference control for the portal and the API: what is running in a tenant's rooms and
``conference <name> <command> [<member>]`` sent to the node hosting it.

Every function takes the tenant (``account``) first and finds the conference only among
that account's rows of the registry (``fsnodes.conference_registry``): a room number or a
member id of another tenant is "not found", exactly like one that does not exist, and no
command is sent. Member ids are checked against the conference's own members (ids are
unique per node, not per room). Rooms are letters, digits and ``_`` (no spaces: nothing
can be appended to the command), member ids are integers, recording paths are made here,
never taken from the caller.

Commands go through ``fsnodes.manager.get_client()`` -- the live connection inside the
call-control process, a short session elsewhere -- with a timeout, and return a
:class:`ControlResult` or raise a :class:`ConferenceError` subclass with a message fit for
a person. Replies as FreeSWITCH 1.11 gave them in the capture: ``+OK mute 1``,
``+OK kicked 2``, ``+OK <name> locked``, ``-ERR Conference nosuch not found``.

A person's operation (the portal's buttons, the API) goes through the two actions at the
end, :func:`do_control_member` and :func:`do_control_room`: the room and member are found
first (another tenant's are "not found"), then the role is checked as every PBX write
checks it (``pbx.actions.crud.authorize``: admins only -- read-only, user activation and
the call-center supervisor, whom seed 002 limits to the call-center queues, are
refused), then the command is sent and, once the node has done it, an audit event
records who did what to whom. Command names are mod_conference's
(``conference_api.c``'s command table): mute, unmute, deaf, undeaf, kick, lock, unlock,
record, norecord.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from esl.client import ESLError, ESLTimeout
from fsnodes.conference_registry import ROOM, parse_conference_name
from fsnodes.inbound import NodeUnavailable
from fsnodes.manager import CommandClient, get_client
from fsnodes.models import Conference, ConferenceMember
from pbx.actions.crud import authorize
from tenants.actions import record
from tenants.models import Account, User

DEFAULT_TIMEOUT = 5.0
DEFAULT_RECORDINGS_DIR = "/var/lib/freeswitch/recordings/conferences"


class ConferenceError(Exception):
    """A conference command could not be done; the message says why."""


class ConferenceNotFound(ConferenceError):
    pass


class MemberNotFound(ConferenceError):
    pass


class NodeUnreachable(ConferenceError):
    """The hosting node is not connected or did not answer in time."""


class CommandFailed(ConferenceError):
    """FreeSWITCH refused the command (``-ERR ...``)."""


@dataclass(frozen=True)
class MemberInfo:
    member_id: int
    uuid: str
    caller_id_name: str
    caller_id_number: str
    muted: bool
    deaf: bool
    moderator: bool
    joined_at: datetime
    talking: bool = False


@dataclass(frozen=True)
class ConferenceInfo:
    room: str
    name: str
    node: str
    locked: bool
    recording: bool
    members: list[MemberInfo]


@dataclass(frozen=True)
class ControlResult:
    node: str
    command: str
    reply: str


def _room(room: str) -> str:
    """The room number named by ``room``: the number itself, or the conference's name on
    the node (``<room>-<domain>``, as the list shows it). Either way it is then looked up
    among this account's conferences only, and commands use the registry's own name."""
    room = str(room)
    if ROOM.match(room):
        return room
    parsed = parse_conference_name(room)
    if parsed is None:
        raise ConferenceNotFound(f"no conference {room!r}")
    return parsed[0]


def _conferences(account, room: str):
    rows = Conference.objects.filter(account_id=account.pk, room=_room(room))
    parsed = None if ROOM.match(str(room)) else parse_conference_name(str(room))
    if parsed is not None:
        rows = rows.filter(name="-".join(parsed))  # a full name: that conference exactly
    return rows.select_related("node").order_by("node__name")


def _conference(account, room: str) -> Conference:
    conference = _conferences(account, room).first()
    if conference is None:
        raise ConferenceNotFound(f"conference {room} is not running")
    return conference


def _member_info(member: ConferenceMember) -> MemberInfo:
    return MemberInfo(member.member_id, member.uuid, member.caller_id_name, member.caller_id_number,
                      muted=not member.can_speak, deaf=not member.can_hear, moderator=member.moderator,
                      joined_at=member.joined_at, talking=member.talking)


def list_conferences(account) -> list[ConferenceInfo]:
    """The account's running conferences with their members."""
    rows = (Conference.objects.filter(account_id=account.pk).select_related("node")
            .prefetch_related("members").order_by("room", "node__name"))
    return [ConferenceInfo(c.room, c.name, c.node.name, c.locked, bool(c.recordings),
                           [_member_info(m) for m in c.members.all()]) for c in rows]


def list_members(account, room: str) -> list[MemberInfo]:
    """The members of the account's conference ``room`` (all nodes it runs on)."""
    conferences = list(_conferences(account, room).prefetch_related("members"))
    if not conferences:
        raise ConferenceNotFound(f"conference {room} is not running")
    return [_member_info(m) for c in conferences for m in c.members.all()]


def _send(conference: Conference, command: str, client: CommandClient | None,
          timeout: float) -> ControlResult:
    line = f"conference {conference.name} {command}"
    client = client or get_client()
    try:
        reply = client.api(conference.node_id, line, timeout=timeout).strip()
    except (NodeUnavailable, ESLTimeout) as exc:
        raise NodeUnreachable(f"conference server {conference.node.name} did not answer: {exc}") from exc
    except ESLError as exc:
        raise NodeUnreachable(f"conference server {conference.node.name} cannot be reached: {exc}") from exc
    if reply.startswith(("-ERR", "-USAGE")) or reply.startswith("non-existant") or "not found" in reply:
        message = reply.removeprefix("-ERR").strip()
        if "not found" in reply:
            raise ConferenceNotFound(f"conference {conference.room} is not running ({message})")
        if "Non-Existant ID" in reply or "non-existant" in reply:
            raise MemberNotFound(f"no such member in conference {conference.room} ({message})")
        raise CommandFailed(f"{command.split()[0]} failed: {message}")
    return ControlResult(conference.node.name, line, reply)


def _find_member(account, room: str, member_id: int) -> ConferenceMember:
    """The member ``member_id`` of the account's conference ``room`` (with its conference
    and node), or ConferenceNotFound / MemberNotFound."""
    if isinstance(member_id, bool) or not isinstance(member_id, int) or member_id < 0:
        raise MemberNotFound(f"no member {member_id!r}")
    rows = list(_conferences(account, room))
    if not rows:
        raise ConferenceNotFound(f"conference {room} is not running")
    member = (ConferenceMember.objects.filter(conference__in=rows, member_id=member_id)
              .select_related("conference__node").first())
    if member is None:
        raise MemberNotFound(f"no member {member_id} in conference {room}")
    return member


def _member_command(account, room: str, member_id: int, command: str, client, timeout) -> ControlResult:
    member = _find_member(account, room, member_id)
    return _send(member.conference, f"{command} {member_id}", client, timeout)


def mute(account, room: str, member_id: int, *, client: CommandClient | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _member_command(account, room, member_id, "mute", client, timeout)


def unmute(account, room: str, member_id: int, *, client: CommandClient | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _member_command(account, room, member_id, "unmute", client, timeout)


def deaf(account, room: str, member_id: int, *, client: CommandClient | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _member_command(account, room, member_id, "deaf", client, timeout)


def undeaf(account, room: str, member_id: int, *, client: CommandClient | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _member_command(account, room, member_id, "undeaf", client, timeout)


def kick(account, room: str, member_id: int, *, client: CommandClient | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _member_command(account, room, member_id, "kick", client, timeout)


def lock(account, room: str, *, client: CommandClient | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _send(_conference(account, room), "lock", client, timeout)


def unlock(account, room: str, *, client: CommandClient | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    return _send(_conference(account, room), "unlock", client, timeout)


def recording_path(conference: Conference, now: datetime | None = None) -> str:
    """Where a recording of ``conference`` goes on its node: one folder per tenant (named
    by the account's schema, which never changes), never a caller-chosen path."""
    base = getattr(settings, "CONFERENCE_RECORDINGS_DIR", "") or os.environ.get(
        "CONFERENCE_RECORDINGS_DIR", DEFAULT_RECORDINGS_DIR)
    stamp = (now or timezone.now()).strftime("%Y%m%dT%H%M%S")
    schema = conference.account.schema_name if conference.account_id else "unowned"
    return f"{base.rstrip('/')}/{schema}/{conference.room}-{stamp}.wav"


def start_recording(account, room: str, *, client: CommandClient | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    conference = _conference(account, room)
    return _send(conference, f"record {recording_path(conference)}", client, timeout)


def stop_recording(account, room: str, *, client: CommandClient | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    """Stops every recording of the room."""
    return _send(_conference(account, room), "norecord all", client, timeout)


def get_conference(account, room: str) -> ConferenceInfo:
    """The account's conference ``room`` with its members (from every node it runs on)."""
    rows = list(_conferences(account, room).prefetch_related("members"))
    if not rows:
        raise ConferenceNotFound(f"conference {room} is not running")
    first = rows[0]
    return ConferenceInfo(first.room, first.name, first.node.name, any(c.locked for c in rows),
                          any(c.recordings for c in rows),
                          [_member_info(m) for c in rows for m in c.members.all()])


# -- the actions: a person's live operation, found, role-checked, sent, audited --------------

MEMBER_OPERATIONS = {"mute": mute, "unmute": unmute, "deaf": deaf, "undeaf": undeaf, "kick": kick}
ROOM_OPERATIONS = {"lock": lock, "unlock": unlock, "record": start_recording,
                   "stop-recording": stop_recording}


def do_control_member(account: Account, room: str, member_id: int, operation: str, *,
                      actor: User | None, ip: str | None = None, client: CommandClient | None = None,
                      timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    """``operation`` (one of :data:`MEMBER_OPERATIONS`) on a member of the account's
    running conference ``room``. Raises ConferenceNotFound / MemberNotFound (another
    tenant's room or member included), PermissionDenied for a role that may not,
    NodeUnreachable / CommandFailed when the node does not do it."""
    if operation not in MEMBER_OPERATIONS:
        raise ValueError(f"no member operation {operation!r}")
    member = _find_member(account, room, member_id)
    authorize(actor, account)
    result = MEMBER_OPERATIONS[operation](account, room, member_id, client=client, timeout=timeout)
    record(actor, account, f"conference.{operation}", ip=ip, room=member.conference.room,
           member_id=member_id, caller_id_number=member.caller_id_number,
           caller_id_name=member.caller_id_name, node=result.node)
    return result


def do_control_room(account: Account, room: str, operation: str, *, actor: User | None,
                    ip: str | None = None, client: CommandClient | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> ControlResult:
    """``operation`` (one of :data:`ROOM_OPERATIONS`) on the account's running conference
    ``room``; raises as :func:`do_control_member` does."""
    if operation not in ROOM_OPERATIONS:
        raise ValueError(f"no conference operation {operation!r}")
    conference = _conference(account, room)
    authorize(actor, account)
    result = ROOM_OPERATIONS[operation](account, room, client=client, timeout=timeout)
    details = {"path": result.command.split(" record ", 1)[1]} if operation == "record" else {}
    record(actor, account, f"conference.{operation.replace('-', '_')}", ip=ip, room=conference.room,
           node=result.node, **details)
    return result
