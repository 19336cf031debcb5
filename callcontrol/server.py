"""The outbound event-socket server: FreeSWITCH's ``socket`` application connects, we run
one app per call in its own greenlet.

Each connection: handshake (``connect``/``myevents``/``linger``), pick the app named by
the ``switchboard_app`` channel variable, run it, then release the call (hang up if the app
left it up, ``exit``, close) and log one line. Nothing a call does -- hang up, drop the
socket, send garbage, stall, raise -- reaches the server or the other calls.

The database: as on each request of the web server, a call's first query health-checks
the process's connection first (common.dbhealth.refresh_connections), so a connection
lost during an outage is replaced by the next call, without a restart. Every database
wait of a call ends within ``CALLCONTROL_DATABASE_WAIT`` (the queries block the hub, so
all calls), and while the breaker is open none is tried. An app the database fails is
not left in silence: if the dialplan planned a fallback after ``socket``
(``switchboard_fallback``), the call goes back to it (``resume``); else the caller hears
the special information tone and the call ends with NORMAL_TEMPORARY_FAILURE.

``server.sessions`` holds the live sessions (tests assert it empties; the benchmark
counts it); ``server.pool`` the connection greenlets.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import time

import gevent
from django.db import InterfaceError, OperationalError
from gevent.pool import Pool
from gevent.server import StreamServer

from callcontrol import conf
from callcontrol.session import CallSession
from common.dbhealth import limits as database_limits
from common.dbhealth import refresh_connections
from esl.connection import CallControlError, CallEnded, CallerHungUp, CommandTimeout, OutboundConnection

log = logging.getLogger("callcontrol.server")

HANDSHAKE_TIMEOUT = 5.0
DEFAULT_MAX_CALLS = 5000


class CallControlServer:
    def __init__(self, listen: tuple[str, int] | None = None, apps: dict | None = None, *,
                 max_calls: int = DEFAULT_MAX_CALLS, handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 release_timeout: float = 1.0) -> None:
        if apps is None:
            from callcontrol.apps import default_apps

            apps = default_apps()
        self.apps = apps
        self.listen = listen or conf.listen_address()
        self.handshake_timeout = handshake_timeout
        self.release_timeout = release_timeout
        self.app_variable = conf.setting("CALLCONTROL_APP_VARIABLE", conf.APP_VARIABLE)
        self.unknown_prompt = conf.setting("CALLCONTROL_UNKNOWN_APP_PROMPT", conf.UNKNOWN_APP_PROMPT)
        self.unavailable_prompt = conf.setting("CALLCONTROL_UNAVAILABLE_PROMPT", conf.UNAVAILABLE_PROMPT)
        self.database_wait = conf.setting("CALLCONTROL_DATABASE_WAIT", 1.0)
        self.sessions: dict[int, CallSession] = {}
        self.calls_handled = 0
        self.pool = Pool(max_calls)
        self._ids = itertools.count(1)
        self._stream = StreamServer(self.listen, self._handle, spawn=self.pool)

    @property
    def address(self) -> tuple[str, int]:
        return self._stream.address[:2]

    def start(self) -> CallControlServer:
        self._stream.start()
        log.info("call control listening on %s:%d", *self.address)
        return self

    def serve_forever(self) -> None:
        self._stream.serve_forever()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting; give live calls ``timeout`` seconds, then kill them."""
        self._stream.stop(timeout=timeout)

    def __enter__(self) -> CallControlServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- one call --------------------------------------------------------------------------

    def _handle(self, sock, address) -> None:
        started = time.monotonic()
        with contextlib.suppress(OSError):  # not TCP (a unix socket): nothing to turn off
            # Each command is one small write answered by FreeSWITCH: never hold it back
            # waiting for the ACK of the previous one (Nagle + delayed ACK).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = OutboundConnection(sock, address)
        key = next(self._ids)
        session: CallSession | None = None
        outcome = "?"
        try:
            try:
                conn.handshake(timeout=self.handshake_timeout)
                session = CallSession(conn, app_name=conn.variables.get(self.app_variable, ""))
                self.sessions[key] = session
                with database_limits(wait=self.database_wait):
                    refresh_connections()
                    outcome = self._run_app(session)
            except (OperationalError, InterfaceError) as exc:
                outcome = self._without_database(session, exc)
            except CallerHungUp as exc:
                outcome = f"caller hung up ({exc.reason}{' ' + exc.cause if exc.cause else ''})"
            except CallEnded as exc:
                outcome = f"ended ({exc.reason})"
            except CommandTimeout as exc:
                outcome = f"timeout: {exc}"
                self._give_up(conn)
            except Exception as exc:
                log.exception("call %s: app %r failed", conn.uuid or address, session and session.app_name)
                outcome = f"error: {type(exc).__name__}: {exc}"
                self._give_up(conn)
        finally:
            try:
                conn.release(timeout=self.release_timeout)
            finally:
                self.sessions.pop(key, None)
                self.calls_handled += 1
            log.info(
                "call %s app=%s domain=%s from=%s to=%s: %s after %.1f s, %d commands",
                conn.uuid or "-", (session and session.app_name) or "-",
                conn.variables.get("domain_name", "-"),
                conn.channel.get("Caller-Caller-ID-Number", "-"),
                conn.channel.get("Caller-Destination-Number", "-"),
                outcome, time.monotonic() - started, session.commands if session else 0,
            )

    def _run_app(self, session: CallSession) -> str:
        app = self.apps.get(session.app_name)
        if app is None:
            log.warning("call %s: unknown app %r", session.uuid, session.app_name)
            session.answer()
            session.play(self.unknown_prompt)
            session.hangup("UNALLOCATED_NUMBER")
            return f"unknown app {session.app_name!r}"
        app(session)
        if session.ended is None:
            session.hangup()
            return "done (hung up after the app)"
        reason = session.ended.reason
        return "done" if reason in ("local", "transferred") else f"done ({reason})"

    def _without_database(self, session: CallSession, exc: Exception) -> str:
        """The app could not reach the database (common.dbhealth): hand the call back to
        the dialplan's fallback, or tell the caller and hang up (module docstring)."""
        outcome = f"database unavailable ({' '.join(str(exc).split())[:120]})"
        conn = session.conn
        if conn.ended is not None or conn.closed:
            return outcome
        fallback = conn.variables.get(conf.FALLBACK_VARIABLE, "")
        try:
            if fallback:
                # FreeSWITCH goes on with the actions after ``socket`` once we let go.
                conn.command("resume")
                conn.ended = conn.ended or CallEnded("resumed")
                return f"{outcome}: back to the dialplan's fallback ({fallback})"
            # Early media if the call is not answered yet: the caller hears it, unbilled.
            session.play(self.unavailable_prompt, timeout=10.0)
            session.hangup(conf.UNAVAILABLE_CAUSE)
            return f"{outcome}: told the caller, hung up"
        except CallControlError as failed:
            self._give_up(conn)
            return f"{outcome}; then {failed}"

    @staticmethod
    def _give_up(conn: OutboundConnection) -> None:
        """After an app error: hang up with a failure cause if the call is still up."""
        if conn.ended is not None or conn.closed:
            return
        try:
            conn.hangup("NORMAL_TEMPORARY_FAILURE", timeout=1.0)
        except Exception:  # the call is being released anyway
            log.debug("call %s: hangup after failure did not complete", conn.uuid, exc_info=True)


def live_greenlets() -> list[gevent.Greenlet]:
    """Reader greenlets still running (each call's connection greenlet is in its
    server's ``pool``)."""
    from esl.connection import LIVE_GREENLETS

    return [g for g in LIVE_GREENLETS if not g.dead]
