"""Entering a conference room: "conference" (``switchboard_ref`` = the ConferenceRoom's pk)
and "conference_hub" (no ref: the caller keys in the room number first, seed 002 "main
conference").

PINs are checked here, not by mod_conference: a room with a participant or a moderator
PIN asks for it (the moderator PIN joins as moderator; with only a moderator PIN set,
participants just press #); three wrong PINs end the call. A room locked in its settings
or locked live by a moderator (the conference registry), or one already holding
``max_members``, gets a clear prompt and a hangup.

The caller then runs ``conference <room>-<domain>@default+flags{...}`` (the name is
``fsnodes.conference_registry.conference_name``, the one the control side parses), with:

* member flags (``|``-separated, mod_conference's ``conference_utils_set_mflags``):
  ``moderator`` for moderators; ``wait-mod`` for participants of a room that waits for
  its moderator (the +flags string also sets the conference flag when this member creates
  the conference, so participants hear music until a moderator joins, and a moderator's
  arrival clears it); ``nomoh`` when the room plays no music to a lone member;
* channel variables mod_conference reads when the member joins or creates the room:
  ``conference_moh_sound`` (the room's hold music; only used if the profile sets none),
  ``conference_enter_sound``/``conference_exit_sound`` set to silence when the room has no
  enter/exit sounds, ``conference_max_members`` (FreeSWITCH also enforces the limit if two
  callers race for the last seat), ``conference_auto_record`` (the path
  ``fsnodes.conferences.recording_path`` gives, one folder per tenant);
* the member count is announced by us (``say``) before joining: mod_conference's own
  announce-count needs a text-to-speech engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcontrol.apps import register
from callcontrol.apps.common import (
    INVALID_ENTRY,
    channel_rate,
    goodbye,
    moh_path,
    not_in_service,
    ref_pk,
    tenant_or_none,
)
from callcontrol.session import CallSession
from fsnodes.conference_registry import conference_name

PROFILE = "default"
MAX_PIN_TRIES = 3
MAX_ROOM_TRIES = 3
PIN_TIMEOUT = 10
ROOM_TIMEOUT = 10
SILENCE = "silence_stream://10"
# A conference runs as long as its members stay: the app waits this long at most.
MAX_CONFERENCE_SECONDS = 12 * 3600

ENTER_ROOM = "conference/conf-enter_conf_number.wav"
ENTER_PIN = "conference/conf-pin.wav"
BAD_PIN = "conference/conf-bad-pin.wav"
LOCKED = "conference/conf-locked.wav"
FULL = "conference/conf-conference_is_full.wav"
MEMBERS_IN_CONFERENCE = "conference/conf-members_in_conference.wav"


@dataclass(frozen=True)
class Room:
    number: str
    participant_pin: str
    moderator_pin: str
    music_while_alone: bool
    moh: str
    enter_exit_sounds: bool
    announce_count: bool
    max_members: int
    locked: bool
    wait_for_moderator: bool
    record_path: str
    members: int


def load_room(session: CallSession, *, pk: int | None = None, number: str | None = None) -> Room | None:
    from fsnodes.conferences import recording_path
    from fsnodes.models import Conference, ConferenceMember
    from pbx.models import ConferenceRoom

    rate = channel_rate(session)
    with session.tenant_schema() as tenant:
        rooms = ConferenceRoom.objects.select_related("moh_group")
        room = rooms.filter(pk=pk).first() if pk is not None else rooms.filter(number=number).first()
        if room is None:
            return None
        account = tenant.account
        live = Conference.objects.filter(account_id=account.pk, room=room.number)
        members = ConferenceMember.objects.filter(conference__in=live).count()
        return Room(
            number=room.number, participant_pin=room.participant_pin, moderator_pin=room.moderator_pin,
            music_while_alone=room.music_while_alone,
            moh=moh_path(room.moh_group, rate) if room.moh_group_id else "",
            enter_exit_sounds=room.enter_exit_sounds, announce_count=room.announce_count,
            max_members=room.max_members,
            locked=room.locked or live.filter(locked=True).exists(),
            wait_for_moderator=room.wait_for_moderator,
            record_path=recording_path(Conference(account=account, room=room.number)) if room.record else "",
            members=members,
        )


def ask_pin(session: CallSession, room: Room) -> bool | None:
    """True: moderator, False: participant, None: three wrong PINs."""
    if not room.participant_pin and not room.moderator_pin:
        return False
    longest = max(len(room.participant_pin), len(room.moderator_pin))
    for _ in range(MAX_PIN_TRIES):
        pin = session.collect(0, longest, timeout=PIN_TIMEOUT, terminators="#", prompt=ENTER_PIN,
                              regex=r"\d*")
        if room.moderator_pin and pin == room.moderator_pin:
            return True
        if pin == room.participant_pin:  # empty when only moderators have a PIN
            return False
        session.play(BAD_PIN)
    return None


def enter(session: CallSession, room: Room, domain: str) -> None:
    pin = ask_pin(session, room)
    if pin is None:
        goodbye(session, "CALL_REJECTED")
        return
    moderator = pin
    if room.locked:
        session.play(LOCKED)
        session.hangup("CALL_REJECTED")
        return
    if room.members >= room.max_members:
        session.play(FULL)
        session.hangup("CALL_REJECTED")
        return
    flags = ["moderator"] if moderator else (["wait-mod"] if room.wait_for_moderator else [])
    if not room.music_while_alone:
        flags.append("nomoh")
    if room.moh:
        session.set("conference_moh_sound", room.moh)
    if not room.enter_exit_sounds:
        session.set("conference_enter_sound", SILENCE)
        session.set("conference_exit_sound", SILENCE)
    session.set("conference_max_members", str(room.max_members))
    if room.record_path:
        session.set("conference_auto_record", room.record_path)
    if room.announce_count and room.members:
        session.execute("say", f"en number pronounced {room.members}", timeout=30)
        session.play(MEMBERS_IN_CONFERENCE)
    name = conference_name(room.number, domain)
    arg = f"{name}@{PROFILE}" + ("+flags{" + "|".join(flags) + "}" if flags else "")
    session.execute("conference", arg, timeout=MAX_CONFERENCE_SECONDS)


@register("conference")
def conference(session: CallSession) -> None:
    pk = ref_pk(session)
    tenant = tenant_or_none(session)
    if pk is None or tenant is None:
        not_in_service(session, "no such conference room")
        return
    room = load_room(session, pk=pk)
    if room is None:
        not_in_service(session, f"conference room {pk} does not exist")
        return
    session.answer()
    enter(session, room, tenant.primary_domain)


@register("conference_hub")
def conference_hub(session: CallSession) -> None:
    tenant = tenant_or_none(session)
    if tenant is None:
        not_in_service(session, "unknown tenant")
        return
    session.answer()
    for _ in range(MAX_ROOM_TRIES):
        number = session.collect(3, 6, timeout=ROOM_TIMEOUT, terminators="#", prompt=ENTER_ROOM,
                                 regex=r"\d{3,6}")
        room = load_room(session, number=number) if number else None
        if room is not None:
            enter(session, room, tenant.primary_domain)
            return
        session.play(INVALID_ENTRY)
    goodbye(session)
