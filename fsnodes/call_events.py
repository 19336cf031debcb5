"""Calls starting, answered and ending, from the nodes' channel events, sent as
``common.signals.call_event`` (webhooks listen): one ``call.started``, at most one
``call.answered`` and one ``call.ended`` per call and account.

What the real switch sends (tests/freeswitch/test_webhooks.py saw it): a phone's or a
carrier's incoming leg (the a-leg) has no ``switchboard_account`` on its CHANNEL_CREATE
-- the dialplan that sets it has not run yet -- while every leg we originate (a bridge's
b-legs, call control's follow-me legs) carries it from its creation, with
``originator`` naming the a-leg. So a call is keyed by its a-leg's uuid (a b-leg's
``originator``), and it *starts* at the first event of any of its legs that names an
account: a ringing b-leg's creation, or else the a-leg's answer or hangup (a call to an
auto attendant, or one refused before anything rang) -- then ``started_at`` is still the
a-leg's creation time. It is *answered* at the first answer of any of its legs, and it
*ends* with its a-leg's CHANNEL_HANGUP_COMPLETE, for every account it started for (an
on-net call between two tenants starts for both: the callee's account is on the legs it
bridges to). A leg called out by ``originate`` with no a-leg is a call of its own.
After a caller's blind transfer (REFER) the called party's leg rings the new phone
itself: those legs make a call keyed by that leg, which ends with its hangup.

Nothing here waits: the listener runs in the connection's reader greenlet, keeps a small
table of the calls in progress, and puts what to send in a bounded queue; one greenlet
sends the signal in a thread of gevent's pool with that thread's own database
connection (the receivers write rows), so the calls sharing this process's hub never
wait on it. A full queue (the database stuck for minutes) drops events, logged, rather
than grow without bound.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.queue
from django.db import close_old_connections, connections

from common.signals import call_event
from esl.framing import Message

log = logging.getLogger("fsnodes.call_events")

STARTED, ANSWERED, ENDED = "call.started", "call.answered", "call.ended"
EVENT_NAMES = frozenset({"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"})
MAX_CALLS = 50_000  # calls whose a-leg end we missed (a reconnect) are forgotten oldest first
QUEUE_SIZE = 10_000
BATCH = 200


def _when(microseconds: str) -> str | None:
    try:
        value = int(microseconds)
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC).isoformat()


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class _Call:
    payload: dict[str, Any]
    answered: bool = False


@dataclass
class CallTracker:
    """The pure part: channel events in, ``(event, account_id, payload)`` out."""

    max_calls: int = MAX_CALLS
    # a-leg uuid → account → the call as that account sees it
    calls: OrderedDict[str, dict[int, _Call]] = field(default_factory=OrderedDict)
    # a-leg uuids of calls that ended: a b-leg's events processed after its a-leg's
    # hangup (seen on the real switch) must not start the call again.
    ended: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def feed(self, headers: dict[str, str] | Any, node: str = "") -> list[tuple[str, int, dict[str, Any]]]:
        name = headers.get("Event-Name", "")
        if name not in EVENT_NAMES:
            return []
        leg = headers.get("Unique-ID", "")
        account_text = headers.get("variable_switchboard_account", "")
        account = int(account_text) if account_text.isdigit() and len(account_text) <= 18 else None
        outbound = headers.get("Call-Direction") == "outbound"
        originator = (headers.get("variable_originator", "")
                      or headers.get("variable_originating_leg_uuid", ""))
        call_uuid = originator if outbound and originator else leg
        hangup = name == "CHANNEL_HANGUP_COMPLETE"
        if call_uuid in self.ended:
            # A leg that originated legs of its own -- a caller's blind transfer (REFER)
            # sends the called party's leg through the dialplan, which rings the new phone
            # from it after the caller's leg ended -- ends the call those legs started.
            return self._end(leg, headers) if hangup and leg in self.calls else []
        out: list[tuple[str, int, dict[str, Any]]] = []
        if account is not None:
            call = self.calls.get(call_uuid, {}).get(account)
            if call is None:
                call = self._start(headers, call_uuid, account, node)
                out.append((STARTED, account, dict(call.payload)))
            if name == "CHANNEL_ANSWER" and not call.answered:
                call.answered = True
                call.payload["answered_at"] = _when(headers.get("Caller-Channel-Answered-Time", ""))
                out.append((ANSWERED, account, dict(call.payload)))
        if hangup and (leg == call_uuid or leg in self.calls):
            out += self._end(leg, headers)
        return out

    def _end(self, call_uuid: str, headers: Any) -> list[tuple[str, int, dict[str, Any]]]:
        """The call keyed ``call_uuid`` ends (its leg hung up), for every account it
        started for; it is remembered as ended."""
        out = [(ENDED, account, self._ended(call, headers))
               for account, call in self.calls.pop(call_uuid, {}).items()]
        self.ended[call_uuid] = None
        while len(self.ended) > self.max_calls:
            self.ended.popitem(last=False)
        return out

    def _start(self, headers: Any, call_uuid: str, account: int, node: str) -> _Call:
        did = headers.get("variable_switchboard_did", "")
        kind = headers.get("variable_switchboard_dest_kind", "")
        channel = headers.get("Channel-Name", "")
        if did:
            direction = "inbound"
        elif kind == "outbound" or channel.startswith("sofia/gateway/"):
            direction = "outbound"
        else:
            direction = "internal"
        # Created-Time of this leg; for the a-leg (a b-leg names it) the call began a
        # moment earlier, which its end event gives exactly.
        payload = {
            "call_uuid": call_uuid,
            "account_id": account,
            "direction": direction,
            "caller_number": headers.get("Caller-Caller-ID-Number", ""),
            "caller_name": headers.get("Caller-Caller-ID-Name", ""),
            "destination": headers.get("Caller-Destination-Number", ""),
            "did": did,
            "destination_kind": kind,
            "started_at": _when(headers.get("Caller-Channel-Created-Time", "")),
            "answered_at": None,
            "node": node,
        }
        call = _Call(payload)
        self.calls.setdefault(call_uuid, {})[account] = call
        while len(self.calls) > self.max_calls:
            self.calls.popitem(last=False)
        return call

    @staticmethod
    def _ended(call: _Call, headers: Any) -> dict[str, Any]:
        payload = dict(call.payload)
        payload.update({
            "started_at": _when(headers.get("Caller-Channel-Created-Time", "")) or payload["started_at"],
            "answered_at": _when(headers.get("Caller-Channel-Answered-Time", "")) or payload["answered_at"],
            "ended_at": _when(headers.get("Caller-Channel-Hangup-Time", "")),
            "duration": _int(headers.get("variable_duration", "")),
            "billsec": _int(headers.get("variable_billsec", "")),
            "hangup_cause": headers.get("Hangup-Cause", "") or headers.get("variable_hangup_cause", ""),
            # The kind the call ended at (a transfer changes it after the start).
            "destination_kind": (headers.get("variable_switchboard_dest_kind", "")
                                 or payload["destination_kind"]),
        })
        return payload


def _send_batch(batch: list[tuple[str, int, dict[str, Any]]]) -> None:
    """In a pool thread, on that thread's own database connection."""
    close_old_connections()
    try:
        for event, account_id, payload in batch:
            for receiver, result in call_event.send_robust(sender=CallEvents, event=event,
                                                          account_id=account_id, payload=payload):
                if isinstance(result, Exception):
                    log.error("call event %s of account %s: receiver %r failed: %s", event, account_id,
                              receiver, result, exc_info=result)
    finally:
        connections.close_all()  # this thread's own connections only


class CallEvents:
    """The node manager's listener (``manager.add_listener(call_events.on_event)``)."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE) -> None:
        self.tracker = CallTracker()
        self.queue: gevent.queue.Queue = gevent.queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.sent = 0  # events handed to the receivers (tests wait on it)
        self._worker: gevent.Greenlet | None = None

    def start(self) -> CallEvents:
        if self._worker is None:
            self._worker = gevent.spawn(self._work)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        if self._worker is not None:
            self._worker.kill(block=True, timeout=timeout)
            self._worker = None

    def on_event(self, connection: Any, message: Message) -> None:
        event = message.event
        if not event or event.get("Event-Name") not in EVENT_NAMES:
            return
        for item in self.tracker.feed(event, getattr(connection, "name", "")):
            try:
                self.queue.put_nowait(item)
            except gevent.queue.Full:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.error("call events: queue full, %d event(s) dropped so far", self.dropped)

    def _work(self) -> None:
        pool = gevent.get_hub().threadpool
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except gevent.queue.Empty:
                    break
            try:
                pool.apply(_send_batch, (batch,))
            except Exception:
                log.exception("call events: %d event(s) not sent", len(batch))
            self.sent += len(batch)
