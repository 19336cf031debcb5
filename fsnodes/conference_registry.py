"""The live registry of conferences and their members, per node, built from FreeSWITCH's
``CUSTOM conference::maintenance`` events (the ``Conference``/``ConferenceMember`` tables).

Event headers, from the capture ``esl/inbound/session.log`` (FreeSWITCH 1.11.3-dev) and
mod_conference (``conference_event.c``, ``conference_record.c``): every event carries
``Conference-Name``, ``Conference-Size``, ``Conference-Unique-ID`` and ``Action``; member
events add ``Member-ID``, ``Unique-ID``, ``Caller-Caller-ID-Name/-Number``, ``Hear`` and
``Speak`` (the flags *after* the change), ``Talking`` (``conference_member_add_event_data``
in conference_member.c), ``Member-Type`` (``member``/``moderator``).
Actions used here: conference-create, add-member, del-member, mute-member,
unmute-member, deaf-member, undeaf-member, start-talking / stop-talking (sent by
conference_loop.c when the member's energy gate opens / closes; every event flag is on
unless a profile clears it), lock, unlock, start-recording / stop-recording (``Path``; a
start with ``Error`` failed), conference-destroy. Others (play-file, floor-change,
kick-member, hup-member -- a del-member follows ...) change nothing we keep.

Conference names: ``<room>-<domain>`` (``3000-acme.example.net`` in the capture), the room
being ``[A-Za-z0-9_]`` only, so the first ``-`` splits them unambiguously. ``@`` cannot be
the separator: in the dialplan's ``conference`` application ``name@profile`` names the
profile. The domain is any of the account's domains (``tenants.Domain``), looked up once,
when the conference is first seen; a name that is not of this form, or whose domain is no
tenant's, is kept with no account and is invisible to every tenant.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fsnodes.models import Conference, ConferenceMember

log = logging.getLogger("fsnodes.conferences")

SUBCLASS = "conference::maintenance"
ROOM = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_NAME = re.compile(r"^([A-Za-z0-9_]{1,64})-([A-Za-z0-9.\-]{1,253})$")
MEMBER_FLAGS = {
    "mute-member": ("can_speak", False),
    "unmute-member": ("can_speak", True),
    "deaf-member": ("can_hear", False),
    "undeaf-member": ("can_hear", True),
    "start-talking": ("talking", True),
    "stop-talking": ("talking", False),
}
# The event header that carries each flag's value after the change.
FLAG_HEADERS = {"can_speak": "Speak", "can_hear": "Hear", "talking": "Talking"}


def conference_name(room: str, domain: str) -> str:
    """The FreeSWITCH name of ``room`` in the tenant whose (primary) domain is ``domain``;
    the conference app must create rooms under this name."""
    if not ROOM.match(room):
        raise ValueError(f"a conference room is letters, digits and _ only: {room!r}")
    return f"{room}-{domain.lower()}"


def parse_conference_name(name: str) -> tuple[str, str] | None:
    match = _NAME.match(name)
    return (match[1], match[2].lower()) if match else None


def account_for_name(name: str) -> tuple[int | None, str]:
    """(account id or None, room) for a conference name."""
    from tenants.models import Domain

    parsed = parse_conference_name(name)
    if parsed is None:
        return None, ""
    room, domain = parsed
    account_id = Domain.objects.filter(domain=domain).values_list("tenant_id", flat=True).first()
    return account_id, room


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def _member_id(event: dict[str, str]) -> int | None:
    value = event.get("Member-ID", "")
    return int(value) if value.isdigit() else None


def _conference(node_id: int, event: dict[str, str], name: str) -> Conference:
    conference = Conference.objects.filter(node_id=node_id, name=name).first()
    uuid = event.get("Conference-Unique-ID", "")
    if conference is not None:
        if uuid and conference.conference_uuid and conference.conference_uuid != uuid:
            # A new conference under an old name: what we knew of the old one is stale.
            conference.members.all().delete()
            conference.locked, conference.recordings = False, []
            conference.conference_uuid = uuid
            conference.save()
        elif uuid and not conference.conference_uuid:
            conference.conference_uuid = uuid
            conference.save(update_fields=["conference_uuid", "updated_at"])
        return conference
    account_id, room = account_for_name(name)
    if account_id is None:
        log.info("conference %r on node %s belongs to no tenant", name, node_id)
    conference, _ = Conference.objects.get_or_create(
        node_id=node_id, name=name,
        defaults={"account_id": account_id, "room": room, "conference_uuid": uuid},
    )
    return conference


def apply_event(node_id: int, event: dict[str, str]) -> str:
    """Apply one decoded ``conference::maintenance`` event. Returns what it did (for the
    log and tests). An event missing what its action needs is logged and ignored."""
    name = event.get("Conference-Name", "")
    action = event.get("Action", "")
    if not name or not action:
        log.warning("node %s: conference event without Conference-Name/Action ignored", node_id)
        return "ignored"
    with transaction.atomic():
        if action == "conference-destroy":
            deleted, _ = Conference.objects.filter(node_id=node_id, name=name).delete()
            return "destroyed" if deleted else "ignored"
        if action in ("add-member", "del-member", *MEMBER_FLAGS):
            member_id = _member_id(event)
            if member_id is None:
                log.warning("node %s: %s for %r without a valid Member-ID ignored", node_id, action, name)
                return "ignored"
            if action == "del-member":
                deleted, _ = ConferenceMember.objects.filter(
                    conference__node_id=node_id, conference__name=name, member_id=member_id).delete()
                return "member removed" if deleted else "ignored"
            conference = _conference(node_id, event, name)
            if action == "add-member":
                _upsert_member(conference, member_id, event)
                return "member added"
            field, value = MEMBER_FLAGS[action]
            # Hear/Speak/Talking carry the state after the change; the action alone if absent.
            value = _flag(event.get(FLAG_HEADERS[field]), value)
            changes = {field: value}
            if field == "can_speak" and not value:
                # A muted member is not heard, whatever its energy gate says (mod_conference
                # sends no stop-talking when it mutes someone mid-sentence).
                changes["talking"] = False
            updated = ConferenceMember.objects.filter(conference=conference, member_id=member_id).update(
                **changes)
            if not updated:
                _upsert_member(conference, member_id, event)
            return f"member {field}={value}"
        if action in ("conference-create", "lock", "unlock", "start-recording", "stop-recording"):
            conference = _conference(node_id, event, name)
            if action in ("lock", "unlock"):
                conference.locked = action == "lock"
                conference.save(update_fields=["locked", "updated_at"])
                return action
            path = event.get("Path", "")
            if action == "start-recording" and path and not event.get("Error"):
                if path not in conference.recordings:
                    conference.recordings = [*conference.recordings, path]
                    conference.save(update_fields=["recordings", "updated_at"])
                return "recording"
            if action == "stop-recording":
                conference.recordings = [p for p in conference.recordings if p != path]
                conference.save(update_fields=["recordings", "updated_at"])
                return "recording stopped"
            return "created" if action == "conference-create" else "ignored"
    return "ignored"


def _upsert_member(conference: Conference, member_id: int, event: dict[str, str]) -> None:
    ConferenceMember.objects.update_or_create(
        conference=conference, member_id=member_id,
        defaults={
            "uuid": event.get("Unique-ID", ""),
            "caller_id_name": event.get("Caller-Caller-ID-Name", ""),
            "caller_id_number": event.get("Caller-Caller-ID-Number", ""),
            "can_hear": _flag(event.get("Hear"), True),
            "can_speak": _flag(event.get("Speak"), True),
            "talking": _flag(event.get("Talking"), False),
            "moderator": event.get("Member-Type", "") == "moderator",
        },
    )


# -- the snapshot taken on (re)connect --------------------------------------------------------


@dataclass
class ListedMember:
    member_id: int
    uuid: str
    caller_id_name: str
    caller_id_number: str
    can_hear: bool
    can_speak: bool
    moderator: bool
    talking: bool = False


@dataclass
class ListedConference:
    name: str
    locked: bool
    members: list[ListedMember]


_HEADER = re.compile(
    r"^(?:\+OK )?Conference (\S+) \((\d+) members? rate: \d+(?: locked)?(?: flags: ([^)]*))?\)")


def parse_member_line(line: str) -> ListedMember | None:
    """One member of ``conference NAME list`` (captured): ``id;channel;uuid;caller id
    name;caller id number;flags;volume in;volume out;energy``, flags ``hear|speak|talking|...``
    (mod_conference.c ``conference_list``)."""
    parts = line.split(";")
    if len(parts) < 6 or not parts[0].isdigit():
        return None
    # A caller name may contain ";": the fixed fields are counted from both ends.
    flags = set(parts[-4].split("|"))
    return ListedMember(
        member_id=int(parts[0]), uuid=parts[2], caller_id_name=";".join(parts[3:-5]),
        caller_id_number=parts[-5], can_hear="hear" in flags, can_speak="speak" in flags,
        moderator="moderator" in flags, talking="talking" in flags,
    )


def parse_list(text: str) -> list[ListedConference] | None:
    """The answer of ``conference list`` (every conference of the node): a header line
    per conference (``Conference NAME (N members rate: R flags: a|b)``, mod_conference's
    conference_api_sub_list) followed by its member lines. ``None`` if the answer is an
    error (the registry is then left alone)."""
    stripped = text.strip()
    if stripped.startswith(("-ERR", "-USAGE")):
        return None
    conferences: list[ListedConference] = []
    for line in stripped.splitlines():
        header = _HEADER.match(line)
        if header:
            flags = set((header[3] or "").split("|"))
            conferences.append(ListedConference(header[1], "locked" in flags or " locked" in line, []))
            continue
        member = parse_member_line(line)
        if member is not None and conferences:
            conferences[-1].members.append(member)
    return conferences


def replace_node_snapshot(node_id: int, listed: list[ListedConference]) -> None:
    """Make the node's rows what ``conference list`` said: conferences it no longer has
    are dropped, the others' members replaced. Recordings are not in the list; those
    already known are kept."""
    now = timezone.now()
    with transaction.atomic():
        names = [c.name for c in listed]
        Conference.objects.filter(node_id=node_id).exclude(name__in=names).delete()
        for item in listed:
            conference = Conference.objects.filter(node_id=node_id, name=item.name).first()
            if conference is None:
                account_id, room = account_for_name(item.name)
                conference = Conference.objects.create(
                    node_id=node_id, name=item.name, account_id=account_id, room=room, locked=item.locked)
            elif conference.locked != item.locked:
                conference.locked = item.locked
                conference.save(update_fields=["locked", "updated_at"])
            known = {m.member_id: m.joined_at for m in conference.members.all()}
            conference.members.all().delete()
            ConferenceMember.objects.bulk_create([
                ConferenceMember(
                    conference=conference, member_id=m.member_id, uuid=m.uuid,
                    caller_id_name=m.caller_id_name, caller_id_number=m.caller_id_number,
                    can_hear=m.can_hear, can_speak=m.can_speak, moderator=m.moderator,
                    talking=m.talking, joined_at=known.get(m.member_id, now),
                )
                for m in item.members
            ])
