"""Conference PINs on the real switch: call control asks for the PIN
(``play_and_get_digits``, keys as RFC 2833 events). A participant PIN shorter than the
room's longest PIN, keyed without ``#``, ends by the digit timeout (``read_result=timeout``
with the keys held, issue 12 defect 1) and joins; three wrong PINs end the call."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from callcontrol.apps.conference import PIN_TIMEOUT
from fsnodes.conference_registry import conference_name
from pbx.actions.conferences import do_create_conference_room
from tests.freeswitch.sip import SCENARIOS

pytestmark = pytest.mark.freeswitch

PARTICIPANT_PIN = "1234"
MODERATOR_PIN = "123456"  # the longer one: a participant's 4 keys do not end the collection
ROOM = "3000"


def keyed_call(fs, customer, from_user: str, to: str, steps: list[tuple[str, int | str]], *, hold_ms: int,
               timeout: float = 40.0):
    """A call from ``from_user`` that, once answered, runs ``steps``: ``("dtmf", "1234")``
    sends keys (RFC 2833), ``("pause", ms)`` waits; then holds ``hold_ms`` and hangs up."""
    actions = []
    for kind, value in steps:
        if kind == "dtmf":
            assert re.fullmatch(r"[0-9*#]+", str(value))
            actions.append(f'  <nop><action><exec play_dtmf="{value}"/></action></nop>')
        else:
            actions.append(f'  <pause milliseconds="{int(value)}"/>')
    template = (SCENARIOS / "uac_dtmf.xml").read_text()
    block = re.search(r'  <pause milliseconds="@DTMF_AFTER_MS@"/>\s*<nop>\s*<action>\s*'
                      r'<exec play_dtmf="@DTMF@"/>\s*</action>\s*</nop>', template)
    assert block, "uac_dtmf.xml no longer has its DTMF block"
    text = template[:block.start()] + "\n".join(actions) + template[block.end():]
    scenario = fs.sip.workdir / f"uac_keys-{time.monotonic_ns()}.xml"
    scenario.write_text(text.replace("@HOLD_MS@", str(hold_ms)))
    keys = {"from_user": from_user, "from_domain": customer.domain, "to_domain": customer.domain,
            "hold_ms": str(hold_ms)}
    return fs.sip.run_sipp(scenario, keys=keys, auth=(from_user, customer.secret(from_user)),
                           auth_uri=f"{to}@{customer.domain}", timeout=timeout, extra=["-s", to])


def room_with_pins(fs):
    acme = fs.data.customer("acme")
    acme.extension("1001")
    do_create_conference_room(acme.account, number=ROOM, name="Standup", participant_pin=PARTICIPANT_PIN,
                              moderator_pin=MODERATOR_PIN)
    return acme, conference_name(ROOM, acme.domain)


def test_a_participant_pin_keyed_without_hash_joins_the_conference(fs):
    acme, name = room_with_pins(fs)

    with ThreadPoolExecutor(1) as background:
        started = time.monotonic()
        caller = background.submit(keyed_call, fs, acme, "1001", ROOM,
                                   [("pause", 500), ("dtmf", PARTICIPANT_PIN)],
                                   hold_ms=(PIN_TIMEOUT + 10) * 1000)
        listing = ""
        while time.monotonic() - started < PIN_TIMEOUT + 8 and not caller.done():
            listing = fs.api(f"conference {name} list")
            if "sofia/internal/1001@" in listing:
                break
            time.sleep(0.25)
        joined_after = time.monotonic() - started
        fs.switch.hangup_all()
        call = caller.result(timeout=30)

    assert call.final_status("INVITE") == 200, call.describe()
    assert "sofia/internal/1001@" in listing, (listing, fs.node.callcontrol.log_since(0)[-3000:])
    assert "moderator" not in listing  # joined with the participant PIN
    assert joined_after >= PIN_TIMEOUT  # the digit timeout ended the collection, not a 6th key


def test_three_wrong_pins_end_the_call(fs):
    acme, name = room_with_pins(fs)
    wrong = "9#"
    # sipp's play_dtmf returns at once and sends a key every 400 ms; a later play_dtmf
    # cuts an earlier one short, hence the pauses.
    tries = [("pause", 500), ("dtmf", wrong), ("pause", 1500), ("dtmf", wrong),
             ("pause", 1500), ("dtmf", wrong)]

    call = keyed_call(fs, acme, "1001", ROOM, tries, hold_ms=5000)

    assert call.final_status("INVITE") == 200, call.describe()
    assert call.received("BYE"), call.describe()  # FreeSWITCH hung up before the phone did
    hangups = [line for line in fs.log().splitlines() if "Hangup sofia/internal/1001@" in line]
    assert hangups and "CALL_REJECTED" in hangups[0], hangups
    assert fs.log().count("conference/conf-bad-pin.wav") >= 3
    assert name not in fs.api("conference list")
