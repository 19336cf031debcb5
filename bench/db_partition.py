"""What ends a database wait in a real network partition, where the kernel drops every
packet: what a userspace proxy (tests/dbproxy.py) cannot show, since its kernel
acknowledges whatever the client sends.

Needs root (``bench.db_outage --kernel`` or ``python -m bench.db_partition``): it makes
two private network namespaces joined by a veth pair (``unshare --net``), the client
(this script) in one and a throwaway PostgreSQL in the other (the server binaries on
PATH, run as ``nobody``), and cuts the link by giving the server's end a queue of length
zero (``tc qdisc add dev vb root pfifo limit 0``): nothing the server sends arrives, not
even an ACK, and nothing is refused. (Dropping on the client's own side would not do:
Linux treats a local drop as congestion, and a keepalive lost that way as not sent.)
Nothing outside the namespaces is touched.

Each case opens a connection, then:

* request lost: the partition starts, then ``SELECT 1`` is sent (its bytes stay
  unacknowledged, TCP retransmits them);
* reply lost: ``SELECT pg_sleep(1)`` is sent and acknowledged, the partition starts while
  it runs (nothing of ours is unacknowledged: only keepalives notice);
* connect: a new connection into the partition;

with no socket options, with Switchboard's (``switchboard.database.socket_limits``), and
with Switchboard's wait limit (``common.dbhealth``, 1 s), and times how long the wait lasts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 55432
CLIENT, SERVER = "10.213.0.1", "10.213.0.2"
CAP = 40.0  # seconds a wait is given before it is called endless


class Server:
    """PostgreSQL in a network namespace of its own, reached over a veth pair."""

    def __init__(self, folder: Path) -> None:
        data = folder / "data"
        shutil.chown(folder, "nobody")
        subprocess.run(["runuser", "-u", "nobody", "--", "initdb", "-D", str(data), "-A", "trust",
                        "-U", "postgres"], check=True, stdout=subprocess.DEVNULL)
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {CLIENT}/32 trust\n")
        self.process = subprocess.Popen(
            ["unshare", "--net", "--", "runuser", "-u", "nobody", "--", "postgres", "-D", str(data),
             "-k", str(folder), "-h", "*", "-p", str(PORT), "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # unshare has made the namespace
        namespace = f"/proc/{self.process.pid}/ns/net"
        self.inside = ["nsenter", f"--net={namespace}"]
        subprocess.run(["ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns",
                        str(self.process.pid)], check=True)
        subprocess.run(["ip", "addr", "add", f"{CLIENT}/24", "dev", "va"], check=True)
        subprocess.run(["ip", "link", "set", "va", "up"], check=True)
        for command in (["ip", "addr", "add", f"{SERVER}/24", "dev", "vb"], ["ip", "link", "set", "vb", "up"],
                        ["ip", "link", "set", "lo", "up"]):
            subprocess.run([*self.inside, *command], check=True)
        import psycopg

        for _ in range(100):
            try:
                psycopg.connect(host=SERVER, port=PORT, user="postgres", dbname="postgres").close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("the throwaway PostgreSQL did not start")

    def partition(self) -> None:
        subprocess.run([*self.inside, "tc", "qdisc", "add", "dev", "vb", "root", "pfifo", "limit", "0"],
                       check=True)

    def heal(self) -> None:
        subprocess.run([*self.inside, "tc", "qdisc", "del", "dev", "vb", "root"], check=False,
                       stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.heal()
        self.process.terminate()
        self.process.wait(10)


def one_case(server: Server, shape: str, options: dict, wait_limit: float | None) -> str:
    import psycopg

    from common.dbhealth import breaker, limits
    from common.pgbackend.base import LimitedConnection

    params = {"host": SERVER, "port": PORT, "user": "postgres", "dbname": "postgres",
              "autocommit": True, "connect_timeout": 2, **options}
    outcome: dict[str, object] = {}
    opened = None if shape == "connect" else LimitedConnection.connect(**params)

    def wait() -> None:
        started = time.monotonic()
        try:
            with limits(wait=wait_limit, breaker=False):
                if shape == "connect":
                    LimitedConnection.connect(**params).close()
                elif shape == "request lost":
                    opened.execute("SELECT 1")
                else:
                    opened.execute("SELECT pg_sleep(1)")
            outcome["error"] = "answered"
        except psycopg.Error as exc:
            # The end of libpq's message names the cause ("Connection timed out").
            outcome["error"] = type(exc).__name__ + ": ..." + " ".join(str(exc).split())[-45:]
        outcome["seconds"] = time.monotonic() - started

    if shape != "reply lost":
        server.partition()
    waiting = threading.Thread(target=wait, daemon=True)
    waiting.start()
    if shape == "reply lost":
        time.sleep(0.3)  # sent and acknowledged; the answer comes at 1 s
        server.partition()
    waiting.join(CAP)
    server.heal()
    ended = "seconds" in outcome
    if not ended and opened is not None:
        import socket

        # Unstick the thread: the bench goes on.
        socket.socket(fileno=os.dup(opened.pgconn.socket)).shutdown(socket.SHUT_RDWR)
    waiting.join(30)
    breaker.reset()
    if opened is not None:
        opened.close()
    if not ended:
        return f"not ended after {CAP:.0f} s"
    return f"{outcome['seconds']:.1f} s ({outcome['error']})"


def inside() -> int:
    sys.path.insert(0, str(ROOT))
    from switchboard.database import socket_limits

    folder = Path(tempfile.mkdtemp(prefix="bench-db-partition-"))
    server = Server(folder)
    switchboard_options = {k: v for k, v in socket_limits({}).items() if k != "options"}
    configurations = [
        ("no socket options", {}, None),
        ("Switchboard's socket options " + ", ".join(f"{k}={v}" for k, v in switchboard_options.items()
                                                      if k != "keepalives"), switchboard_options, None),
        ("Switchboard's wait limit (1 s)", switchboard_options, 1.0),
    ]
    lines = ["| wait | " + " | ".join(name for name, _, _ in configurations) + " |",
             "|---|" + "---|" * len(configurations)]
    try:
        for shape in ("request lost", "reply lost", "connect"):
            cells = [one_case(server, shape, options, limit) for _, options, limit in configurations]
            lines.append(f"| {shape} | " + " | ".join(cells) + " |")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(lines))
    return 0


def main() -> int:
    if "--inside" in sys.argv:
        return inside()
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "nsenter", "tc", "initdb")):
        print("needs root, unshare, nsenter, tc and the PostgreSQL server binaries on PATH")
        return 2
    return subprocess.run(["unshare", "--net", "--", sys.executable, "-m", "bench.db_partition", "--inside"],
                          cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": ""}).returncode


if __name__ == "__main__":
    sys.exit(main())
