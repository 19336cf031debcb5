"""The dial-by-name company directory app."""

from __future__ import annotations

import pytest

from callcontrol.apps.common import GOODBYE
from callcontrol.apps.directory import (
    AT_EXTENSION,
    BY_FIRST_NAME,
    BY_LAST_NAME,
    NO_MATCH,
    NO_MORE,
    keypad,
)
from pbx.models import VoicemailBox
from tests.callcontrol.helpers import finish
from tests.callcontrol.pbx_apps import (
    args_of,
    dial,
    executed,
    hangups,
    pbx,  # noqa: F401 (fixture)
    ready_prompt,
    transfer_of,
    wait_for_nth,
)
from tests.pbx.routing_helpers import extension


@pytest.fixture
def staff(tree):
    c1 = tree.c1
    alice = extension(c1, "1001", "Alice Smith")
    bob = extension(c1, "1002", "Bob Smithers")
    extension(c1, "1003", "Carol Smit", hidden_from_directory=True)
    quiet = extension(c1, "1004", "Dan Smiley")
    extension(c1, "1005", "Eve Jones")
    from django_tenants.utils import schema_context

    with schema_context(c1.schema_name):
        VoicemailBox.objects.filter(extension=quiet).update(hidden_from_directory=True)
        VoicemailBox.objects.filter(extension=bob).update(greeting_name=ready_prompt(c1, "bob-name"))
    # Another tenant's Smith is never found.
    extension(tree.c2, "1001", "Zed Smith")
    return type("Staff", (), dict(c1=c1, alice=alice, bob=bob))


def said(call) -> list[str]:
    return args_of(call, "say")


def search_prompt(call, n: int) -> str:
    return wait_for_nth(call, "play_and_get_digits", n).arg.split(" ")[5]


def test_keypad():
    assert keypad("Smith") == "76484" and keypad("O'Neil") == "66345"


def test_last_name_search_next_and_connect(pbx, staff):  # noqa: F811
    call = dial(pbx, staff.c1, "directory")
    assert search_prompt(call, 1) == BY_LAST_NAME
    call.press("764")  # S-M-I
    wait_for_nth(call, "play_and_get_digits", 2)  # Alice Smith first (by name)
    call.press("2")  # next
    wait_for_nth(call, "play_and_get_digits", 3)
    call.press("1")  # Bob Smithers
    finish(pbx, call, timeout=5)
    assert said(call) == ["en number iterated 1001", "en number iterated 1002"]
    plays = args_of(call, "playback")
    assert plays[0] == AT_EXTENSION
    assert plays[1].endswith(f"{staff.c1.schema_name}/prompt/bob-name.8000.wav")  # Bob's recorded name
    assert transfer_of(call) == f"~extension:{staff.bob.pk}"
    # Hidden extensions, hidden boxes and the other tenant's Smith were never offered.
    assert len(said(call)) == 2


def test_first_name_search(pbx, staff):  # noqa: F811
    call = dial(pbx, staff.c1, "directory")
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("*#")
    assert search_prompt(call, 2) == BY_FIRST_NAME
    call.press("25")  # A-L, then #
    call.press("#")
    wait_for_nth(call, "play_and_get_digits", 3)
    call.press("1")
    finish(pbx, call, timeout=5)
    assert said(call) == ["en number iterated 1001"]
    assert transfer_of(call) == f"~extension:{staff.alice.pk}"


def test_no_match_three_times_then_goodbye(pbx, staff):  # noqa: F811
    call = dial(pbx, staff.c1, "directory")
    for n in (1, 2, 3):
        wait_for_nth(call, "play_and_get_digits", n)
        call.press("999")
    finish(pbx, call, timeout=5)
    plays = args_of(call, "playback")
    assert plays == [NO_MATCH, NO_MATCH, NO_MATCH, GOODBYE]
    assert hangups(call) == ["NORMAL_CLEARING"] and transfer_of(call) == ""


def test_nobody_chosen_counts_as_a_failed_search(pbx, staff):  # noqa: F811
    call = dial(pbx, staff.c1, "directory")
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("566")  # J-O-N: Eve Jones only
    wait_for_nth(call, "play_and_get_digits", 2)
    call.press("2")
    wait_for_nth(call, "play_and_get_digits", 3)
    assert ("playback", NO_MORE) in executed(call)
    call.hangup()
    finish(pbx, call)
    assert transfer_of(call) == ""


def test_caller_hangs_up_while_a_name_is_read(pbx, staff):  # noqa: F811
    call = dial(pbx, staff.c1, "directory")
    call.hold.add("say")
    wait_for_nth(call, "play_and_get_digits", 1)
    call.press("764")
    wait_for_nth(call, "say", 1)
    call.hangup()
    finish(pbx, call)
    assert transfer_of(call) == "" and hangups(call) == []


def test_unknown_domain(pbx, db):  # noqa: F811
    call = dial(pbx, None, "directory", domain="nobody.example.net")
    finish(pbx, call)
    assert hangups(call) == ["UNALLOCATED_NUMBER"]
