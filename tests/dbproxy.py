"""A TCP proxy between Switchboard and PostgreSQL that a test cuts, the two ways a database
goes away in production (issue 17):

* ``PASS``: bytes flow both ways.
* ``REFUSE``: the server is down. The listening socket is closed, so a connect is refused
  at once, and every open connection is reset.
* ``BLACKHOLE``: a network partition. Open connections stay open and new ones are
  accepted (the TCP handshake is the kernel's), but nothing is forwarded either way: a
  query waits for an answer that does not come. Back in ``PASS`` the partition heals:
  what was held flows again and held connections reach the server, as TCP
  retransmission does when a real partition ends.

A userspace proxy's kernel acknowledges what the client sends, so TCP keepalives and
``tcp_user_timeout`` never fire through it: a black-holed wait here is bounded only by the
client's own limits (common.dbhealth), which is what the tests prove. What the kernel
does in a real partition (packets dropped) is measured by ``bench/db_outage.py
--kernel``.

Use::

    with DatabaseProxy.for_settings(connection.settings_dict) as proxy:
        env["DATABASE_URL"] = proxy.database_url(os.environ["DATABASE_URL"])  # a child process
        with django_connection_through(proxy):   # or this thread's Django connection
            ...
            proxy.set_mode(Mode.BLACKHOLE)

The proxy runs in a thread of its own (real sockets, so a test blocked in a database
wait, or gevent's hub, does not stop it); ``set_mode`` returns once the mode is in force.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
from collections.abc import Iterator
from enum import StrEnum
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import pytest


class Mode(StrEnum):
    PASS = "pass"
    REFUSE = "refuse"
    BLACKHOLE = "blackhole"


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed server's kernel would answer."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()


class DatabaseProxy:
    def __init__(self, upstream: tuple[str, int] | str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream  # (host, port), or the path of a unix socket
        self.host = host
        self.mode = Mode.PASS
        self.accepted = 0  # connections accepted, in every mode
        self._listener: socket.socket | None = self._listen(port)
        self.port = self._listener.getsockname()[1]
        self._peers: dict[socket.socket, socket.socket] = {}  # each side -> the other
        self._held: list[socket.socket] = []  # accepted while black-holed, not connected on
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._commands: queue.Queue = queue.Queue()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="database-proxy", daemon=True)
        self._thread.start()

    @classmethod
    def for_settings(cls, settings_dict: dict) -> DatabaseProxy:
        """A proxy to the server a Django ``DATABASES`` entry names (TCP or unix socket)."""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = int(settings_dict.get("PORT") or 5432)
        return cls(f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port))

    # -- what a test does ------------------------------------------------------------------

    def set_mode(self, mode: Mode | str, timeout: float = 5.0) -> None:
        done = threading.Event()
        self._commands.put((Mode(mode), done))
        self._wake_write.send(b"x")
        if not done.wait(timeout):
            raise RuntimeError(f"the database proxy did not switch to {mode}")

    @property
    def open_connections(self) -> int:
        return len(self._peers) // 2 + len(self._held)

    def database_url(self, url: str) -> str:
        """``url`` (a ``DATABASE_URL``) through this proxy: for a child process."""
        parsed = urlparse(url)
        query = {name: values[-1] for name, values in parse_qs(parsed.query).items()
                 if name not in ("host", "port")}
        credentials = parsed.netloc.rpartition("@")[0]
        netloc = f"{credentials + '@' if credentials else ''}{self.host}:{self.port}"
        return urlunparse(parsed._replace(netloc=netloc, query=urlencode(query)))

    def stop(self) -> None:
        self._stopped = True
        # The proxy thread closes the wake-up pair when it ends; it may have ended already
        # (a CI teardown failed on EBADF here after a black-holed test that had passed).
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        self._thread.join(5)

    def __enter__(self) -> DatabaseProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the proxy thread ------------------------------------------------------------------

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(128)
        listener.setblocking(False)
        return listener

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.settimeout(5)
        server.connect(self.upstream)
        server.settimeout(None)
        return server

    def _run(self) -> None:
        try:
            while not self._stopped:
                for key, _ in self._selector.select(timeout=1.0):
                    sock = key.fileobj
                    if sock is self._wake_read:
                        self._wake_read.recv(4096)
                        self._apply_commands()
                    elif sock is self._listener:
                        self._accept()
                    elif sock in self._peers:
                        self._forward(sock)
        finally:
            for sock in [*self._peers, *self._held]:
                _reset(sock)
            if self._listener is not None:
                self._listener.close()
            self._selector.close()
            self._wake_read.close()
            self._wake_write.close()

    def _apply_commands(self) -> None:
        while True:
            try:
                mode, done = self._commands.get_nowait()
            except queue.Empty:
                return
            self._switch(mode)
            done.set()

    def _switch(self, mode: Mode) -> None:
        if mode == Mode.REFUSE:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            for sock in [*self._peers, *self._held]:
                if self.mode == Mode.PASS and sock in self._peers:
                    self._selector.unregister(sock)
                _reset(sock)
            self._peers.clear()
            self._held.clear()
        elif mode == Mode.BLACKHOLE:
            if self._listener is None:
                self._listener = self._listen(self.port)
                self._selector.register(self._listener, selectors.EVENT_READ)
            if self.mode == Mode.PASS:
                for sock in self._peers:
                    self._selector.unregister(sock)
        else:
            if self._listener is None:
                self._listener = self._listen(self.port)
                self._selector.register(self._listener, selectors.EVENT_READ)
            if self.mode == Mode.BLACKHOLE:
                for sock in self._peers:
                    self._selector.register(sock, selectors.EVENT_READ)
                held, self._held = self._held, []
                for client in held:
                    self._pair(client)
        self.mode = mode

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, OSError):
            return
        self.accepted += 1
        client.setblocking(True)
        if self.mode == Mode.BLACKHOLE:
            self._held.append(client)
        else:
            self._pair(client)

    def _pair(self, client: socket.socket) -> None:
        try:
            server = self._connect_upstream()
        except OSError:
            _reset(client)
            return
        self._peers[client] = server
        self._peers[server] = client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        for side in (sock, peer):
            self._selector.unregister(side)
            del self._peers[side]
            with contextlib.suppress(OSError):
                side.close()


@contextlib.contextmanager
def django_connection_through(proxy: DatabaseProxy, alias: str = "default", *,
                              pool: dict | None = None) -> Iterator[object]:
    """Inside the block, this thread's Django connection ``alias`` goes through ``proxy``:
    a new connection to the same (test) database, with the same settings (``pool``:
    psycopg's pool options, as ``DATABASE_POOL_SIZE`` sets them). It is not the test's
    connection, so it sees committed data only; the test's own connection is untouched
    and comes back after the block (gevent greenlets of this thread share it, as call
    control's calls do)."""
    from django.db import connections

    original = connections[alias]
    settings_dict = {**original.settings_dict, "HOST": proxy.host, "PORT": str(proxy.port),
                     "OPTIONS": dict(original.settings_dict["OPTIONS"])}
    if pool is not None:
        settings_dict["OPTIONS"]["pool"] = pool
        settings_dict["CONN_MAX_AGE"] = 0
    through = type(original)(settings_dict, alias)
    connections[alias] = through
    try:
        yield through
    finally:
        with contextlib.suppress(Exception):
            through.close()
        if pool is not None:
            through.close_pool()
        connections[alias] = original


@pytest.fixture
def dbproxy(django_db_setup, django_db_blocker) -> Iterator[DatabaseProxy]:
    """A proxy to the test database's server, passing; stopped after the test."""
    from django.db import connection

    proxy = DatabaseProxy.for_settings(connection.settings_dict)
    try:
        yield proxy
    finally:
        proxy.stop()
