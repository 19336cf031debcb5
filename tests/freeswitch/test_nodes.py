"""The node manager and the FreeSWITCH it is connected to, on the real switch: a
FreeSWITCH restart (issue 12, also seen)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fsnodes.models import Conference
from pbx.actions.conferences import do_create_conference_room

pytestmark = pytest.mark.freeswitch

CONNECTED = "node harness: connected to"
# The backoff's ceiling (fsnodes.inbound.Backoff: 2 s) and a margin for a loaded machine.
RECONNECT_WITHIN = 3.0
# How long the switch stays down: a plain ``fsctl shutdown`` takes 6 s to unload every
# module before a restart begins. (With a short gap the old backoff's first quick retries
# happened to catch the switch too; after this one its next attempt came 4-8 s late.)
DOWN_SECONDS = 5.0


def wait_until(condition, timeout: float, step: float = 0.05) -> float | None:
    """Seconds until ``condition()`` held, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    return None


def test_after_a_restart_the_manager_is_back_at_once_and_lists_a_conference_started_meanwhile(fs):
    """FreeSWITCH stops and starts again on the same ports; a phone joins a conference as
    soon as the switch is up, while the manager may still be waiting to reconnect. The
    manager reconnects within the backoff's 2 s ceiling of the switch being ready (with
    the former 30 s cap it took ~12 s, attempt 5) and the conference reaches the
    registry: from its events, or from the ``conference list`` snapshot taken on
    reconnect when it started before."""
    acme = fs.data.customer("acme")
    acme.extension("1001")
    do_create_conference_room(acme.account, number="3000", name="Standup")
    callcontrol = fs.node.callcontrol
    before_restart = callcontrol.log_size()

    fs.switch.stop()
    time.sleep(DOWN_SECONDS)
    fs.switch.start()
    with ThreadPoolExecutor(1) as background:
        joined = background.submit(fs.sip.call, "1001", "acme.example.net", acme.secret("1001"), "3000",
                                   hold_ms=4000)
        reconnected = wait_until(lambda: CONNECTED in callcontrol.log_since(before_restart), timeout=15)
        listed = wait_until(lambda: Conference.objects.filter(name="3000-acme.example.net").exists(),
                            timeout=10)
        call = joined.result(timeout=30)

    assert reconnected is not None and reconnected < RECONNECT_WITHIN, (reconnected, callcontrol.log_tail())
    assert listed is not None and listed < RECONNECT_WITHIN + 1, (listed, callcontrol.log_tail())
    assert call.final_status("INVITE") == 200, call.describe()
    # Gone from the registry once the last member left (its conference-destroy event).
    assert wait_until(lambda: not Conference.objects.filter(name="3000-acme.example.net").exists(),
                      timeout=5) is not None
