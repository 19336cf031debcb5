"""The inbound connection manager: one long-lived event-socket connection per enabled
``FreeswitchNode`` (``fsnodes.inbound.NodeConnection``), inside the call-control process
(``manage.py run_callcontrol`` starts it; ``--no-manager`` leaves it out).

What it does with them:

* **Interactive commands** -- ``api()``, ``bgapi()``, ``originate()`` and the conference
  controls -- go over the live connection with a timeout, and fail at once with
  :class:`NodeUnavailable` while the node is away: a person clicking a button gets an
  answer now.
* **Durable commands** (``xml_flush_cache``, sofia rescans) stay in the ``NodeCommand``
  outbox (``enqueue()`` here is ``fsnodes.queue.enqueue_many``), delivered by Celery as
  before. When a node (re)connects the manager makes its pending commands due and drains
  them at once instead of waiting for the next backoff slot. The drain runs
  ``fsnodes.delivery.deliver_node`` in a thread of gevent's pool, on that thread's own
  database connection and a short session of its own: the outbox's row lock and
  bookkeeping stay in one place, and neither a slow node nor a transaction held across
  network waits can stall (or leak into) the calls sharing this process's hub and its one
  database connection.
* **Events**: ``conference::maintenance`` feeds the conference registry
  (``fsnodes.conference_registry``); on (re)connect the node's registry is rebuilt from
  ``conference list``. With ``voicemail_messages=True``, mod_voicemail's
  ``vm::maintenance`` feeds the voicemail message mirror (fsnodes.voicemail_messages).
  Other events go to ``add_listener()`` callbacks.
* **Nodes** come from the table (``FREESWITCH_NODES`` synced into it first); the list is
  read again every ``refresh_interval`` seconds: new or changed nodes are (re)connected,
  disabled or removed ones closed.

Processes without a manager (web, worker) reach the nodes through :class:`OneShotClient`
(a short blocking session per command); :func:`get_client` picks for the caller.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid as uuidlib
import weakref
from collections.abc import Callable, Iterable
from typing import Protocol

import gevent
from django.db import close_old_connections, connections
from django.utils import timezone

from esl.client import ESLError, InboundESL
from esl.framing import Message
from fsnodes import conference_registry
from fsnodes.auth_guard import SUBCLASS as AUTH_FAILURE_SUBCLASS
from fsnodes.auth_guard import AuthGuard
from fsnodes.inbound import (
    CHECK_INTERVAL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_REPLY_TIMEOUT,
    DEFAULT_WEDGE_TIMEOUT,
    EVENTS,
    Backoff,
    CommandRejected,
    JobTimeout,
    NodeConnection,
    NodeUnavailable,
)
from fsnodes.models import Conference, FreeswitchNode, NodeCommand
from fsnodes.queue import enqueue_many, validate_command
from fsnodes.voicemail_messages import SUBCLASS as VOICEMAIL_SUBCLASS
from fsnodes.voicemail_messages import VoicemailFeed

log = logging.getLogger("fsnodes.manager")

__all__ = [
    "CommandRejected",
    "JobTimeout",
    "NodeManager",
    "NodeUnavailable",
    "OneShotClient",
    "OriginateFailed",
    "UnknownNode",
    "get_client",
]

ORIGINATE_GRACE = 5.0
_VAR_NAME = re.compile(r"^[A-Za-z0-9_.]+$")
_VAR_VALUE = re.compile(r"^[^\s,{}\[\]'\"<>|^]*$")

NodeRef = FreeswitchNode | int | str

# Greenlets this module spawned and that have not finished (tests assert it empties).
LIVE_GREENLETS: weakref.WeakSet[gevent.Greenlet] = weakref.WeakSet()


class UnknownNode(ESLError):
    """No enabled node by that id or name."""


class OriginateFailed(ESLError):
    """FreeSWITCH could not place the call; ``cause`` is its hangup cause."""

    def __init__(self, message: str, cause: str, call_uuid: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.call_uuid = call_uuid


class CommandClient(Protocol):
    def api(self, node: NodeRef, command: str, timeout: float | None = None) -> str: ...


_current: NodeManager | None = None


def get_client() -> CommandClient:
    """The running manager of this process, or a one-shot client (web, worker)."""
    return _current if _current is not None and _current.running else OneShotClient()


def _node_key(node: NodeRef) -> int | str:
    return node.pk if isinstance(node, FreeswitchNode) else node


class NodeManager:
    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        backoff: Backoff | None = None,
        stable_after: float = 10.0,
        wedge_timeout: float = DEFAULT_WEDGE_TIMEOUT,
        check_interval: float = CHECK_INTERVAL,
        refresh_interval: float = 30.0,
        drain_outbox: bool = True,
        resync_conferences: bool = True,
        guard_auth: bool = False,
        guard_interval: float = 5.0,
        voicemail_messages: bool = False,
    ) -> None:
        self.connection_options = {
            "connect_timeout": connect_timeout, "reply_timeout": reply_timeout,
            "idle_timeout": idle_timeout, "backoff": backoff or Backoff(), "stable_after": stable_after,
            "wedge_timeout": wedge_timeout, "check_interval": check_interval,
        }
        self.reply_timeout = reply_timeout
        self.refresh_interval = refresh_interval
        self.drain_outbox = drain_outbox
        self.resync_conferences = resync_conferences
        self.connections: dict[int, NodeConnection] = {}
        self.drains = 0  # outbox drains finished (tests wait on it)
        self.running = False
        self._signatures: dict[int, tuple] = {}
        self._listeners: list[Callable[[NodeConnection, Message], None]] = []
        self._refresher: gevent.Greenlet | None = None
        self._drainers: set[gevent.Greenlet] = set()
        # Per node being resynced: its conference events held until the snapshot is in.
        self._held_conference_events: dict[int, list[dict[str, str]]] = {}
        # SIP password guessing (fsnodes.auth_guard): sofia's register_failure events are
        # counted here, and expired blocks are ended every guard_interval seconds.
        self.auth_guard: AuthGuard | None = None
        self.guard_interval = guard_interval
        self._guard_sweeper: gevent.Greenlet | None = None
        if guard_auth:
            self.auth_guard = AuthGuard()
            self.connection_options["events"] = (*EVENTS, AUTH_FAILURE_SUBCLASS)
            self._listeners.append(self._guard_event)
        # Voicemail messages (fsnodes.voicemail_messages): mod_voicemail's vm::maintenance
        # events feed the message mirror, worked off by one greenlet in order.
        self.voicemail_feed: VoicemailFeed | None = None
        self._voicemail_worker: gevent.Greenlet | None = None
        if voicemail_messages:
            self.voicemail_feed = VoicemailFeed(
                lambda fn, *args: gevent.get_hub().threadpool.apply(_in_thread, (fn, *args)))
            events = self.connection_options.get("events", EVENTS)
            self.connection_options["events"] = (*events, VOICEMAIL_SUBCLASS)
            self._listeners.append(self.voicemail_feed.on_event)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> NodeManager:
        global _current
        from fsnodes.nodes import ensure_configured_nodes

        self.running = True
        try:
            ensure_configured_nodes()
            self.refresh_nodes()
        except Exception:
            # The database may be down while calls can still be served: the refresh loop
            # tries again.
            log.exception("could not read the FreeSWITCH nodes; retrying every %g s", self.refresh_interval)
        if self.refresh_interval > 0:
            self._refresher = self._spawn(self._refresh_loop)
        if self.auth_guard is not None:
            self._guard_sweeper = self._spawn(self._guard_loop)
        if self.voicemail_feed is not None:
            self._voicemail_worker = self._spawn(self.voicemail_feed.run)
        _current = self
        return self

    def stop(self, timeout: float = 2.0) -> None:
        global _current
        self.running = False
        if _current is self:
            _current = None
        if self._refresher is not None:
            self._refresher.kill(block=True, timeout=timeout)
            self._refresher = None
        if self._guard_sweeper is not None:
            self._guard_sweeper.kill(block=True, timeout=timeout)
            self._guard_sweeper = None
        if self._voicemail_worker is not None:
            self._voicemail_worker.kill(block=True, timeout=timeout)
            self._voicemail_worker = None
        for connection in list(self.connections.values()):
            connection.stop(timeout)
        self.connections.clear()
        self._signatures.clear()
        for drainer in list(self._drainers):
            # A drain in a pool thread cannot be interrupted; its greenlet only waits for it.
            drainer.join(timeout)

    def __enter__(self) -> NodeManager:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, fn, *args) -> gevent.Greenlet:
        greenlet = gevent.spawn(fn, *args)
        LIVE_GREENLETS.add(greenlet)
        return greenlet

    def _refresh_loop(self) -> None:
        while self.running:
            gevent.sleep(self.refresh_interval)
            try:
                self.refresh_nodes()
            except Exception:
                log.exception("could not read the FreeSWITCH nodes; keeping the current connections")

    def _guard_event(self, connection: NodeConnection, message: Message) -> None:
        event = message.event or {}
        if event.get("Event-Subclass") != AUTH_FAILURE_SUBCLASS or self.auth_guard is None:
            return
        # A block is a few rows and an audit entry: written in a pool thread on its own
        # connection, so the reader greenlet (and the calls on this hub) never wait on it.
        guard = self.auth_guard

        def count() -> None:
            try:
                gevent.get_hub().threadpool.apply(_in_thread, (guard.on_event, connection, message))
            except Exception:
                log.exception("node %s: SIP authentication failure not counted", connection.name)

        self._spawn(count)

    def _guard_loop(self) -> None:
        while self.running and self.auth_guard is not None:
            gevent.sleep(self.guard_interval)
            try:
                gevent.get_hub().threadpool.apply(_in_thread, (self.auth_guard.housekeeping,))
            except Exception:
                log.exception("ending expired SIP authentication blocks failed; retrying")

    def refresh_nodes(self) -> None:
        """Match the connections to the enabled nodes in the table."""
        nodes = {node.pk: node for node in FreeswitchNode.objects.filter(enabled=True)}
        for node_id in [n for n in self.connections if n not in nodes]:
            log.info("node %s: disabled or removed, closing", self.connections[node_id].name)
            self.connections.pop(node_id).stop()
            self._signatures.pop(node_id, None)
            # Nobody will keep its conferences current any more.
            Conference.objects.filter(node_id=node_id).delete()
        for node in nodes.values():
            password = node.esl_password
            signature = (node.name, node.host, node.esl_port, password)
            if self._signatures.get(node.pk) == signature:
                continue
            if node.pk in self.connections:
                log.info("node %s: settings changed, reconnecting", node.name)
                self.connections.pop(node.pk).stop()
            if password is None:
                log.error("node %s: the ESL password cannot be decrypted (key changed?)", node.name)
                self._signatures[node.pk] = signature
                continue
            connection = NodeConnection(
                node.pk, node.name, node.host, node.esl_port, password,
                on_event=self._on_event, on_connected=self._on_connected, on_status=self._on_status,
                **self.connection_options,
            )
            self.connections[node.pk] = connection
            self._signatures[node.pk] = signature
            connection.start()

    # -- lookups ---------------------------------------------------------------------------

    def connection(self, node: NodeRef) -> NodeConnection:
        key = _node_key(node)
        if isinstance(key, int) and key in self.connections:
            return self.connections[key]
        for connection in self.connections.values():
            if connection.name == key:
                return connection
        raise UnknownNode(f"no enabled FreeSWITCH node {key!r}")

    def connected_nodes(self) -> list[NodeConnection]:
        return sorted((c for c in self.connections.values() if c.connected), key=lambda c: c.name)

    def add_listener(self, listener: Callable[[NodeConnection, Message], None]) -> None:
        """Called with every event (in the connection's reader greenlet; must not block)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[NodeConnection, Message], None]) -> None:
        self._listeners.remove(listener)

    # -- commands --------------------------------------------------------------------------

    def api(self, node: NodeRef, command: str, timeout: float | None = None) -> str:
        """``api <command>`` on ``node``; :class:`NodeUnavailable` at once if it is away."""
        return self.connection(node).api(validate_command(command), timeout)

    def bgapi(self, node: NodeRef, command: str, timeout: float | None = None) -> str:
        """``bgapi <command>``: the job's output (from BACKGROUND_JOB)."""
        return self.connection(node).bgapi(validate_command(command), timeout)

    def enqueue(self, command: str, nodes: Iterable[FreeswitchNode] | None = None) -> list[NodeCommand]:
        """A durable command: into the outbox, for every enabled node (or ``nodes``); it
        waits there while a node is away."""
        return enqueue_many([command], nodes)

    def originate(
        self,
        dial_string: str,
        destination: str = "&park()",
        *,
        node: NodeRef | None = None,
        timeout: float = 30.0,
        variables: dict[str, str] | None = None,
        account: int | None = None,
        destination_kind: str = "",
    ) -> str:
        """Place a call: ``bgapi originate {vars}<dial_string> <destination>`` (destination
        ``&app(args)`` or ``EXTENSION XML CONTEXT``). Returns the new call's UUID once it
        is answered; raises :class:`OriginateFailed` (with FreeSWITCH's cause),
        :class:`JobTimeout` or :class:`NodeUnavailable`. ``node``: any connected node if
        not given. The UUID is chosen here (``origination_uuid``), so a caller that gets a
        timeout can still find or kill the call.

        ``account`` (and ``destination_kind``) mark the new leg the way our dialplan marks
        a call (``switchboard_account``, ``switchboard_dest_kind``): a leg originated here
        has no caller's leg whose exported marks it could inherit, so without them its
        call record is attributed only by its SIP domain (none for a carrier leg) and the
        node manager sends no webhook events for it (fsnodes.call_events)."""
        if not dial_string or any(c.isspace() for c in dial_string):
            raise ValueError(f"a dial string is one word: {dial_string!r}")
        if not destination.strip():
            raise ValueError("originate needs a destination")
        call_uuid = str(uuidlib.uuid4())
        marks = {"switchboard_account": str(account)} if account is not None else {}
        if destination_kind:
            marks["switchboard_dest_kind"] = destination_kind
        merged = {"origination_uuid": call_uuid, "originate_timeout": str(max(1, round(timeout))),
                  **marks, **(variables or {})}
        for name, value in merged.items():
            if not _VAR_NAME.match(name) or not _VAR_VALUE.match(str(value)):
                raise ValueError(f"channel variable {name}={value!r} cannot go into a dial string")
        spec = ",".join(f"{name}={value}" for name, value in merged.items())
        connection = self.connection(node) if node is not None else self._any_connected()
        body = connection.bgapi(
            validate_command(f"originate {{{spec}}}{dial_string} {destination.strip()}"),
            timeout + ORIGINATE_GRACE)
        reply = body.strip()
        if reply.startswith("+OK"):
            return reply[3:].strip() or call_uuid
        cause = reply.removeprefix("-ERR").strip() or "UNKNOWN"
        raise OriginateFailed(f"node {connection.name}: originate {dial_string} failed: {cause}",
                              cause, call_uuid)

    def _any_connected(self) -> NodeConnection:
        connected = self.connected_nodes()
        if not connected:
            raise NodeUnavailable("no FreeSWITCH node is connected")
        return connected[0]

    # -- connection callbacks --------------------------------------------------------------

    def _on_event(self, connection: NodeConnection, message: Message) -> None:
        event = message.event or {}
        subclass = event.get("Event-Subclass")
        if event.get("Event-Name") == "CUSTOM" and subclass == conference_registry.SUBCLASS:
            held = self._held_conference_events.get(connection.node_id)
            if held is not None:
                held.append(event)  # applied after the snapshot being taken (_resync)
            else:
                self._apply_conference_event(connection, event)
        for listener in list(self._listeners):
            try:
                listener(connection, message)
            except Exception:
                log.exception("node %s: event listener failed", connection.name)

    def _on_connected(self, connection: NodeConnection) -> None:
        if self.resync_conferences:
            self._resync(connection)
        if self.drain_outbox:
            drainer = self._spawn(self._drain, connection.node_id, connection.name)
            self._drainers.add(drainer)
            drainer.link(self._drainers.discard)

    def _apply_conference_event(self, connection: NodeConnection, event: dict[str, str]) -> None:
        try:
            conference_registry.apply_event(connection.node_id, event)
        except Exception:
            log.exception("node %s: conference event %r not applied", connection.name, event.get("Action"))

    def _resync(self, connection: NodeConnection) -> None:
        """Rebuild the node's registry from ``conference list``. The events that arrive
        meanwhile are held and applied after the snapshot, in order: the reader goes on
        reading while this greenlet waits, so an event newer than the listing (a call
        joining) applied first would otherwise be undone by the older snapshot. Replaying
        ones older than the listing is harmless: each event carries the state after it."""
        held = self._held_conference_events[connection.node_id] = []
        try:
            try:
                text = connection.api("conference list")
            except ESLError as exc:
                log.warning("node %s: conference list failed, registry not rebuilt: %s", connection.name, exc)
                return
            listed = conference_registry.parse_list(text)
            if listed is None:
                log.warning("node %s: conference list answered %r", connection.name, text.strip()[:200])
                return
            conference_registry.replace_node_snapshot(connection.node_id, listed)
        finally:
            self._held_conference_events.pop(connection.node_id, None)
            for event in held:
                self._apply_conference_event(connection, event)

    def _drain(self, node_id: int, name: str) -> None:
        try:
            answered = gevent.get_hub().threadpool.apply(_drain_in_thread, (node_id,))
            if answered:
                log.info("node %s: delivered %d queued command(s) on connect", name, answered)
        except Exception:
            log.exception("node %s: draining the outbox failed; the Celery sweep will deliver", name)
        finally:
            self.drains += 1

    def _on_status(self, connection: NodeConnection, up: bool, error: str) -> None:
        fields = {"last_seen_at": timezone.now(), "last_error": ""} if up else {"last_error": error[:2000]}
        FreeswitchNode.objects.filter(pk=connection.node_id).update(**fields)


def _in_thread(fn, *args):
    """In a pool thread, with that thread's own database connection."""
    close_old_connections()
    try:
        return fn(*args)
    finally:
        connections.close_all()  # this thread's own connections only


def _drain_in_thread(node_id: int) -> int:
    """In a pool thread: the node is reachable again, so its queue is due now."""
    from fsnodes.delivery import deliver_node

    close_old_connections()
    try:
        NodeCommand.objects.filter(node_id=node_id, status=NodeCommand.Status.PENDING).update(
            next_attempt_at=timezone.now())
        return deliver_node(node_id)
    finally:
        connections.close_all()  # this thread's own connections only


class OneShotClient:
    """For processes without a manager: a short blocking session per command
    (``esl.client.InboundESL``, every wait bounded)."""

    def __init__(self, connect_timeout: float = 2.0) -> None:
        self.connect_timeout = connect_timeout

    def api(self, node: NodeRef, command: str, timeout: float | None = None) -> str:
        key = _node_key(node)
        lookup = {"pk": key} if isinstance(key, int) else {"name": key}
        row = FreeswitchNode.objects.filter(enabled=True, **lookup).first()
        if row is None:
            raise UnknownNode(f"no enabled FreeSWITCH node {key!r}")
        password = row.esl_password
        if password is None:
            raise NodeUnavailable(f"node {row.name}: the ESL password cannot be decrypted")
        session = InboundESL(row.host, row.esl_port, password, connect_timeout=self.connect_timeout,
                             reply_timeout=DEFAULT_REPLY_TIMEOUT if timeout is None else timeout)
        try:
            with session:
                return session.api(validate_command(command))
        except ESLError as exc:
            with contextlib.suppress(Exception):
                FreeswitchNode.objects.filter(pk=row.pk).update(last_error=str(exc)[:2000])
            raise
