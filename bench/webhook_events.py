"""What a call's channel events cost the node manager's reader greenlet now that it feeds
webhooks (fsnodes.call_events.CallEvents.on_event: the call table and the queue put),
beside a listener that only reads the event name (the baseline every listener pays).

Usage: .venv/bin/python -m bench.webhook_events [--calls 20000] [--repeat 3]

Each call is the six events the real switch sends for an answered extension call
(tests/freeswitch/test_webhooks.py): the caller's CHANNEL_CREATE (no account yet), the
phone leg's CHANNEL_CREATE, both answers, both CHANNEL_HANGUP_COMPLETE, with the header
sets seen there. The sending greenlet is not started, so the figure is the reader's
share alone (the signal and the database work run in a pool thread). Best of
``--repeat`` runs; no database needed.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")

from esl.framing import Message
from fsnodes.call_events import CallEvents


def call_events(n: int) -> list[Message]:
    messages = []
    for _ in range(n):
        a, b = str(uuid.uuid4()), str(uuid.uuid4())
        common = {"Caller-Caller-ID-Number": "1001", "Caller-Destination-Number": "1002",
                  "Caller-Channel-Created-Time": "1796641782188209", "Caller-Context": "acme.example.net"}
        a_leg = {**common, "Unique-ID": a, "Call-Direction": "inbound",
                 "Channel-Name": "sofia/internal/1001@acme.example.net"}
        marked = {"variable_switchboard_account": "2", "variable_switchboard_dest_kind": "extension"}
        b_leg = {**common, **marked, "Unique-ID": b, "Call-Direction": "outbound", "variable_originator": a,
                 "Channel-Name": "sofia/internal/1002@127.0.0.1:5060", "variable_dialed_user": "1002"}
        for name, headers in (("CHANNEL_CREATE", a_leg), ("CHANNEL_CREATE", b_leg), ("CHANNEL_ANSWER", b_leg),
                              ("CHANNEL_ANSWER", {**a_leg, **marked}), ("CHANNEL_HANGUP_COMPLETE", b_leg),
                              ("CHANNEL_HANGUP_COMPLETE", {**a_leg, **marked, "variable_billsec": "1"})):
            messages.append(Message(headers={}, event={**headers, "Event-Name": name}))
    return messages


class _Connection:
    name = "fs-a"


def run(messages: list[Message], listener) -> float:
    connection = _Connection()
    started = time.perf_counter()
    for message in messages:
        listener(connection, message)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    messages = call_events(args.calls)
    baseline = min(run(messages, lambda connection, message: (message.event or {}).get("Event-Name"))
                   for _ in range(args.repeat))
    timings = []
    for _ in range(args.repeat):
        feed = CallEvents(queue_size=len(messages))
        timings.append(run(messages, feed.on_event))
        assert feed.queue.qsize() == 3 * args.calls and not feed.tracker.calls and feed.dropped == 0
    best = min(timings)
    count = len(messages)
    print(f"{count} channel events ({args.calls} calls, 3 webhook events each)")
    print(f"baseline listener: {baseline / count * 1e6:.2f} µs/event")
    print(f"CallEvents.on_event: {best / count * 1e6:.2f} µs/event "
          f"({count / best:,.0f} events/s on one core)")


if __name__ == "__main__":
    main()
