"""The outbound event-socket server: FreeSWITCH's ``socket`` application connects, we run
one app per call in its own greenlet.

Each connection: handshake (``connect``/``myevents``/``linger``), pick the app named by
the ``switchboard_app`` channel variable, run it, then release the call (hang up if the app
left it up, ``exit``, close) and log one line. Nothing a call does -- hang up, drop the
socket, send garbage, stall, raise -- reaches the server or the other calls.

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
from gevent.pool import Pool
from gevent.server import StreamServer

from callcontrol import conf
from callcontrol.session import CallSession
from esl.connection import CallEnded, CallerHungUp, CommandTimeout, OutboundConnection

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
                outcome = self._run_app(session)
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
