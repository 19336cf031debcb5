"""Entering conference rooms: PINs, moderators, locked and full rooms, the hub."""

from __future__ import annotations

import pytest

from callcontrol.apps.common import GOODBYE, INVALID_ENTRY, not_in_service_prompt
from callcontrol.apps.conference import BAD_PIN, ENTER_PIN, ENTER_ROOM, FULL, LOCKED, MEMBERS_IN_CONFERENCE
from fsnodes.conference_registry import conference_name
from fsnodes.models import Conference, ConferenceMember, FreeswitchNode
from pbx.actions import do_create_conference_room, do_create_moh_group, do_delete_conference_room
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    args_of,
    dial,
    executed,
    hangups,
    pbx,  # noqa: F401 (fixture)
    wait_for_nth,
)


@pytest.fixture
def rooms(tree):
    c1 = tree.c1
    open_room = do_create_conference_room(c1, number="3000", name="Open", announce_count=False)
    pinned = do_create_conference_room(c1, number="3001", name="Board", participant_pin="1234",
                                       moderator_pin="9876", wait_for_moderator=True,
                                       music_while_alone=False, enter_exit_sounds=False, record=True)
    return type("Rooms", (), dict(c1=c1, open=open_room, pinned=pinned))


def live(account, room: str, *, members: int = 0, locked: bool = False) -> Conference:
    """The room as the conference registry sees it running on a node."""
    node, _ = FreeswitchNode.objects.get_or_create(name="fs1", defaults={"host": "10.0.0.1",
                                                                         "esl_password_encrypted": "x"})
    domain = account.domains.get(is_primary=True).domain
    conference = Conference.objects.create(node=node, name=conference_name(room, domain), account=account,
                                           room=room, locked=locked)
    for member_id in range(1, members + 1):
        ConferenceMember.objects.create(conference=conference, member_id=member_id)
    return conference


def joined(call) -> str:
    args = args_of(call, "conference")
    assert len(args) == 1, executed(call)
    return args[0]


def variables_set(call) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in args_of(call, "set"))


def test_open_room_joins_at_once(pbx, rooms):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference", rooms.open.pk)
    call.hold.add("conference")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert joined(call) == "3000-c1.example.net@default"
    assert [name for name, _ in executed(call)] == ["answer", "set", "conference"]
    assert variables_set(call) == {"conference_max_members": "25"}


def test_participant_pin(pbx, rooms):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference", rooms.pinned.pk)
    call.hold.add("conference")
    pin = wait_for_nth(call, "play_and_get_digits", 1)
    assert pin.arg.split(" ")[5] == ENTER_PIN
    call.press("1234#")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert joined(call) == "3001-c1.example.net@default+flags{wait-mod|nomoh}"
    variables = variables_set(call)
    assert variables["conference_enter_sound"] == variables["conference_exit_sound"] == "silence_stream://10"
    assert variables["conference_auto_record"].endswith(f"/{rooms.c1.schema_name}/" + variables[
        "conference_auto_record"].rsplit("/", 1)[1])
    assert variables["conference_auto_record"].rsplit("/", 1)[1].startswith("3001-")


def test_moderator_pin(pbx, rooms):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference", rooms.pinned.pk)
    call.hold.add("conference")
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("9876#")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert joined(call) == "3001-c1.example.net@default+flags{moderator|nomoh}"


def test_only_a_moderator_pin_lets_participants_in_with_pound(pbx, rooms):  # noqa: F811
    room = do_create_conference_room(rooms.c1, number="3002", name="Town hall", moderator_pin="5555",
                                     announce_count=False)
    call = dial(pbx, rooms.c1, "conference", room.pk)
    call.hold.add("conference")
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("#")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert joined(call) == "3002-c1.example.net@default"


def test_wrong_pin_three_times(pbx, rooms):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference", rooms.pinned.pk)
    for n in (1, 2, 3):
        wait_for_nth(call, "play_and_get_digits", n)
        call.press("0000#")
    finish(pbx, call)
    assert args_of(call, "playback") == [BAD_PIN, BAD_PIN, BAD_PIN, GOODBYE]
    assert hangups(call) == ["CALL_REJECTED"] and args_of(call, "conference") == []


@pytest.mark.parametrize("how", ["settings", "live"])
def test_locked_room(pbx, rooms, how):  # noqa: F811
    from pbx.actions import do_update_conference_room

    if how == "settings":
        do_update_conference_room(rooms.c1, rooms.open, locked=True)
    else:
        live(rooms.c1, "3000", members=2, locked=True)
    call = dial(pbx, rooms.c1, "conference", rooms.open.pk)
    finish(pbx, call)
    assert executed(call) == [("answer", ""), ("playback", LOCKED)]
    assert hangups(call) == ["CALL_REJECTED"]


def test_full_room(pbx, rooms):  # noqa: F811
    from pbx.actions import do_update_conference_room

    do_update_conference_room(rooms.c1, rooms.open, max_members=3)
    live(rooms.c1, "3000", members=3)
    call = dial(pbx, rooms.c1, "conference", rooms.open.pk)
    finish(pbx, call)
    assert executed(call) == [("answer", ""), ("playback", FULL)]
    assert hangups(call) == ["CALL_REJECTED"]


def test_another_tenants_live_room_does_not_count(pbx, tree, rooms):  # noqa: F811
    """Same room number, same node, other tenant: c1's room is neither full nor locked."""
    from pbx.actions import do_update_conference_room

    do_update_conference_room(rooms.c1, rooms.open, max_members=2)
    live(tree.c2, "3000", members=5, locked=True)
    call = dial(pbx, rooms.c1, "conference", rooms.open.pk)
    call.hold.add("conference")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert joined(call) == "3000-c1.example.net@default"


def test_announce_count_and_room_music(pbx, rooms):  # noqa: F811
    from pbx.actions import do_update_conference_room

    group = do_create_moh_group(rooms.c1, name="Jazz")
    do_update_conference_room(rooms.c1, rooms.open, announce_count=True, moh_group=group)
    live(rooms.c1, "3000", members=2)
    call = dial(pbx, rooms.c1, "conference", rooms.open.pk)
    call.hold.add("conference")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert args_of(call, "say") == ["en number pronounced 2"]
    assert args_of(call, "playback") == [MEMBERS_IN_CONFERENCE]
    assert variables_set(call)["conference_moh_sound"].startswith("local_stream://")


def test_hub_asks_for_the_room(pbx, rooms):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference_hub")
    call.hold.add("conference")
    assert wait_for_nth(call, "play_and_get_digits", 1).arg.split(" ")[5] == ENTER_ROOM
    call.press("3999#")  # no such room
    wait_for_nth(call, "play_and_get_digits", 2)
    call.press("3001#")
    wait_for_nth(call, "play_and_get_digits", 3)  # its PIN
    call.press("1234#")
    wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert args_of(call, "playback") == [INVALID_ENTRY]
    assert joined(call).startswith("3001-c1.example.net@default")


def test_hub_gives_up_after_three_wrong_rooms(pbx, rooms, tree):  # noqa: F811
    do_create_conference_room(tree.c2, number="3500", name="Theirs")
    call = dial(pbx, rooms.c1, "conference_hub")
    for n, digits in enumerate(["3500#", "12#", "9999#"], start=1):  # 3500 is c2's
        wait_for_nth(call, "play_and_get_digits", n)
        call.press(digits)
    finish(pbx, call, timeout=5)
    assert args_of(call, "playback") == [INVALID_ENTRY] * 3 + [GOODBYE]
    assert args_of(call, "conference") == []


@pytest.mark.parametrize("stage", ["pin", "conference"])
def test_caller_hangs_up(pbx, rooms, stage):  # noqa: F811
    call = dial(pbx, rooms.c1, "conference", rooms.pinned.pk)
    call.hold.add("play_and_get_digits" if stage == "pin" else "conference")
    wait_for_nth(call, "play_and_get_digits", 1)
    if stage == "conference":
        call.press("1234#")
        wait_for_nth(call, "conference", 1)
    call.hangup()
    finish(pbx, call)
    assert hangups(call) == []


def test_deleted_or_missing_room(pbx, rooms):  # noqa: F811
    gone_pk = rooms.open.pk
    do_delete_conference_room(rooms.c1, rooms.open)
    for ref in (gone_pk, ""):
        call = dial(pbx, rooms.c1, "conference", ref)
        finish(pbx, call)
        assert executed(call) == [("answer", ""), ("playback", not_in_service_prompt())]
        assert hangups(call) == ["UNALLOCATED_NUMBER"]
