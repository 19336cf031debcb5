"""The outbound call-control server holding many calls, against a raw-socket echo server.

Usage: .venv/bin/python -m bench.callcontrol [--quick] [--sessions 100 1000 2000]
       [--seconds 15] [--interval 1.0] [--no-write]

Three processes per row, all on this machine:

* **ours**: ``CallControlServer`` (the class ``manage.py run_callcontrol`` runs) with one app,
  ``bench_loop``: answer, then ``play()`` until the caller goes away. Each ``play`` is a
  ``sendmsg`` execute with its Event-UUID, answered by the CHANNEL_EXECUTE_COMPLETE
  carrying it (``callcontrol.esl``).
* **load**: N fake FreeSWITCH outbound connections (gevent), each doing what FreeSWITCH
  does on ``socket ... async full``: wait for ``connect`` and answer it with the captured
  channel data (``tests/fakes/freeswitch_outbound.py``), answer ``myevents`` and
  ``linger``, then for every ``sendmsg`` execute: ``+OK`` at once, and after the
  "playback" (``--interval`` seconds on average, uniformly 0.5x..1.5x so the calls do not
  move in step) the captured CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE with its
  Application-UUID, in one write (about 5.5 KB, as FreeSWITCH sends them). Measured per
  command: from that write to the arrival of the app's next ``sendmsg``.
* **echo** (the baseline, same load process, same N, same rate, same bytes): a gevent
  server that answers each turn's bytes with a ``sendmsg``-sized block without looking at
  them. What it costs is the kernel, the loopback and a minimal Python loop; ours minus it
  is what the protocol, the session and the app add.

Also measured: calls held at once (the server's own count of live sessions, read from a
stats file it writes), and the server's RSS (``/proc/PID/status``) before the calls and
while all are held: (held - idle) / N is the memory per call. The soft ``ulimit -n`` is
raised to the hard limit in every process (each call is one descriptor on each side).

A full run writes its table into docs/benchmarks.md ("Call-control server"); ``--quick``
(50 calls, 3 s) and ``--no-write`` only print it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "tone_stream://%(500,0,440)"
EVENT_UUID_PLACEHOLDER = "00000000-0000-4000-8000-00000000beef"
ECHO_REPLY = (b"sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: "
              + PROMPT.encode() + b"\nevent-lock: true\nEvent-UUID: " + EVENT_UUID_PLACEHOLDER.encode()
              + b"\n\n")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- roles (each its own process) -------------------------------------------------------------


def serve_ours(port: int, stats_path: str, max_calls: int) -> None:
    """The server under test: the real CallControlServer and one app."""
    raise_fd_limit()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    # No query is made; this only keeps settings from starting the embedded PostgreSQL.
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench_unused")
    os.environ["LOG_LEVEL"] = "WARNING"  # one INFO line per call would be the benchmark
    import django

    django.setup()
    import gevent

    from callcontrol.server import CallControlServer
    from callcontrol.session import CallSession

    def bench_loop(session: CallSession) -> None:
        session.answer()
        while True:
            session.play(PROMPT)

    if os.environ.get("BENCH_GC") == "off":  # experiment: is the cyclic collector the cost?
        import gc

        gc.disable()
    server = CallControlServer(("127.0.0.1", port), {"bench_loop": bench_loop}, max_calls=max_calls)
    server.start()

    def report() -> None:
        while True:
            Path(stats_path).write_text(json.dumps({"sessions": len(server.sessions),
                                                    "handled": server.calls_handled}))
            gevent.sleep(0.25)

    gevent.spawn(report)
    gevent.signal_handler(signal.SIGTERM, lambda: server.stop(timeout=1))
    profile_path = os.environ.get("BENCH_PROFILE")
    if profile_path:  # where the server's time goes: BENCH_PROFILE=/tmp/cc.prof
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(server.serve_forever)
        profiler.dump_stats(profile_path)
        return
    server.serve_forever()


def serve_echo(port: int, turn_size: int) -> None:
    """The baseline: one greenlet per connection, a reply per ``turn_size`` bytes."""
    raise_fd_limit()
    import gevent
    from gevent.server import StreamServer

    def handle(sock, _address) -> None:
        received = 0
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:  # the load generator went away
                return
            if not chunk:
                return
            received += len(chunk)
            while received >= turn_size:
                received -= turn_size
                sock.sendall(ECHO_REPLY)

    server = StreamServer(("127.0.0.1", port), handle, backlog=2048)
    gevent.signal_handler(signal.SIGTERM, server.stop)
    server.serve_forever()


def turn_templates() -> tuple[bytes, bytes]:
    """(connect reply, execute + completion) from the captures, for one call whose
    Unique-ID is the captured one (replaced per call: same length)."""
    from tests.fakes.freeswitch_outbound import (
        connect_reply_template,
        event_template,
        frame_block,
        frame_event,
    )

    def with_app(headers):
        values = {"Application": "playback", "Application-Data": PROMPT,
                  "Application-UUID": EVENT_UUID_PLACEHOLDER, "Application-Response": "FILE PLAYED"}
        return [(n, values.get(n, v)) for n, v in headers]

    execute = frame_event(with_app(event_template("CHANNEL_EXECUTE", "playback")))
    complete = frame_event(with_app(event_template("CHANNEL_EXECUTE_COMPLETE", "playback")))
    variables = [("variable_switchboard_app", "bench_loop")]
    headers = connect_reply_template()
    at = next(i for i, (n, _) in enumerate(headers) if n == "Content-Type")
    return frame_block(headers[:at] + variables + headers[at:]), execute + complete


def run_load(mode: str, port: int, calls: int, seconds: float, interval: float) -> None:
    """N fake FreeSWITCH calls; prints "held" once all are up, then one JSON line."""
    raise_fd_limit()
    import gevent
    import gevent.socket as gsocket
    from gevent.event import Event

    from tests.fakes.freeswitch_outbound import CAPTURED_UUID

    connect_reply, turn = turn_templates()
    samples: list[float] = []
    state = {"measuring": False, "failed": 0, "held": 0}
    all_held = Event()
    stop = Event()

    def pace() -> float:
        return interval * random.uniform(0.5, 1.5)

    def one_call(index: int) -> None:
        call_uuid = f"{index:08d}-0000-4000-8000-{random.getrandbits(48):012x}"
        try:
            sock = gsocket.create_connection(("127.0.0.1", port), timeout=30)
            sock.settimeout(None)
        except OSError:
            state["failed"] += 1
            return
        my_turn = turn.replace(CAPTURED_UUID.encode(), call_uuid.encode())
        held = False
        sent_at = 0.0
        buffer = b""
        try:
            if mode == "echo":
                state["held"] += 1
                if state["held"] == calls:
                    all_held.set()
                while not stop.is_set():
                    gevent.sleep(pace())
                    sent_at = time.perf_counter()
                    sock.sendall(my_turn)
                    while b"\n\n" not in buffer:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    if state["measuring"]:
                        samples.append(time.perf_counter() - sent_at)
                    buffer = buffer.split(b"\n\n", 1)[1]
                return
            reply = connect_reply.replace(CAPTURED_UUID.encode(), call_uuid.encode())
            while not stop.is_set():
                while b"\n\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                block, buffer = buffer.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                name = lines[0]
                if name == "connect":
                    sock.sendall(reply)
                elif name == "myevents":
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n")
                elif name == "linger":
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK will linger\n\n")
                elif name == "sendmsg":
                    now = time.perf_counter()
                    if sent_at and state["measuring"]:
                        samples.append(now - sent_at)
                    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
                    if not held:
                        held = True
                        state["held"] += 1
                        if state["held"] == calls:
                            all_held.set()
                    if headers.get("execute-app-name") != "answer":
                        gevent.sleep(pace())
                    event_uuid = headers.get("Event-UUID", EVENT_UUID_PLACEHOLDER)
                    sent_at = time.perf_counter()
                    sock.sendall(my_turn.replace(EVENT_UUID_PLACEHOLDER.encode(), event_uuid.encode()))
                elif name == "exit":
                    return
        except OSError:
            state["failed"] += 1
        finally:
            sock.close()

    greenlets = []
    for index in range(calls):
        greenlets.append(gevent.spawn(one_call, index))
        if index % 100 == 99:
            gevent.sleep(0.05)  # below the listen backlog
    if not all_held.wait(60):
        print(json.dumps({"error": f"only {state['held']} of {calls} calls came up"}), flush=True)
    print("held", flush=True)
    gevent.sleep(1.0)  # settle
    state["measuring"] = True
    gevent.sleep(seconds)
    state["measuring"] = False
    stop.set()
    for greenlet in greenlets:
        greenlet.kill(block=False)
    gevent.joinall(greenlets, timeout=5)
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000 if ordered else 0.0

    print(json.dumps({"held": state["held"], "failed": state["failed"], "commands": len(ordered),
                      "p50": pct(0.50), "p99": pct(0.99),
                      "mean": statistics.fmean(ordered) * 1000 if ordered else 0.0}), flush=True)


# -- the orchestrator -------------------------------------------------------------------------


def _spawn(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.callcontrol", *args], cwd=ROOT, **kwargs)


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(mode: str, calls: int, seconds: float, interval: float) -> dict:
    port = free_port()
    stats = Path(tempfile.mkstemp(prefix="bench-callcontrol-", suffix=".json")[1])
    turn_size = len(turn_templates()[1])
    if mode == "echo":
        server = _spawn(["--role", "echo", str(port), str(turn_size)])
    else:
        server = _spawn(["--role", "server", str(port), str(stats), str(calls + 100)])
    try:
        _wait_port(port)
        time.sleep(0.3)
        idle_rss = rss_kib(server.pid)
        load = _spawn(["--role", "load", mode, str(port), str(calls), str(seconds), str(interval)],
                      stdout=subprocess.PIPE, text=True)
        peak_rss, peak_sessions, result, cpu_used = idle_rss, 0, {}, 0.0
        for line in load.stdout:
            line = line.strip()
            if line == "held":
                # Sample while every call is up (the measuring window follows).
                time.sleep(1.0)
                cpu_start = cpu_seconds(server.pid)
                for _ in range(int(seconds * 2)):
                    time.sleep(0.5)
                    peak_rss = max(peak_rss, rss_kib(server.pid))
                    if mode == "ours":
                        with contextlib.suppress(OSError, ValueError, KeyError):
                            peak_sessions = max(peak_sessions, json.loads(stats.read_text())["sessions"])
                cpu_used = cpu_seconds(server.pid) - cpu_start
            elif line.startswith("{"):
                result = json.loads(line)
        load.wait()
    finally:
        _stop(server)
        stats.unlink(missing_ok=True)
    result.update(idle_rss_kib=idle_rss, peak_rss_kib=peak_rss, sessions=peak_sessions,
                  cpu_per_command_ms=cpu_used * 1000 / max(result.get("commands", 0), 1))
    return result


def table(rows: list[tuple[int, dict, dict]], seconds: float, interval: float) -> str:
    lines = [
        "| calls | held at once (server's count) | server RSS idle / held MiB | RSS per call KiB "
        "| commands measured | server CPU per command ms | ours p50 / p99 ms | echo p50 / p99 ms "
        "| added p50 / p99 ms | failed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for calls, ours, echo in rows:
        per_call = (ours["peak_rss_kib"] - ours["idle_rss_kib"]) / max(calls, 1)
        lines.append(
            f"| {calls:,} | {ours['sessions']:,} | {ours['idle_rss_kib'] / 1024:.1f} / "
            f"{ours['peak_rss_kib'] / 1024:.1f} | {per_call:.1f} | {ours.get('commands', 0):,} "
            f"| {ours.get('cpu_per_command_ms', 0):.2f} "
            f"| {ours.get('p50', 0):.2f} / {ours.get('p99', 0):.2f} "
            f"| {echo.get('p50', 0):.2f} / {echo.get('p99', 0):.2f} "
            f"| {ours.get('p50', 0) - echo.get('p50', 0):.2f} / "
            f"{ours.get('p99', 0) - echo.get('p99', 0):.2f} "
            f"| {ours.get('failed', 0) + echo.get('failed', 0)} |")
    return "\n".join(lines)


BEGIN, END = "<!-- bench.callcontrol: begin -->", "<!-- bench.callcontrol: end -->"


def write_docs(text: str) -> None:
    """Replace the generated part of the "Call-control server" section (append it the
    first time); prose around the markers is kept."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n## Call-control server (issue 4)\n\n" + block + "\n"
    path.write_text(doc)
    print(f"written to {path}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        role, args = sys.argv[2], sys.argv[3:]
        if role == "server":
            serve_ours(int(args[0]), args[1], int(args[2]))
        elif role == "echo":
            serve_echo(int(args[0]), int(args[1]))
        elif role == "load":
            run_load(args[0], int(args[1]), int(args[2]), float(args[3]), float(args[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 calls for 3 s, nothing written")
    parser.add_argument("--sessions", type=int, nargs="+", default=[100, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0, help="mean playback length, s")
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.sessions, options.seconds = [50], 3.0
    limit = raise_fd_limit()
    print(f"open-files limit {limit}")
    rows = []
    for calls in options.sessions:
        if calls * 2 + 64 > limit:
            print(f"skipping {calls} calls: ulimit -n {limit} is too low")
            continue
        echo = measure("echo", calls, options.seconds, options.interval)
        ours = measure("ours", calls, options.seconds, options.interval)
        print(f"{calls} calls: ours {ours} / echo {echo}", flush=True)
        rows.append((calls, ours, echo))
    from bench.common import machine

    command = "`.venv/bin/python -m bench.callcontrol" + (
        " --sessions " + " ".join(map(str, options.sessions)) if options.sessions != [100, 1000, 2000] else ""
    ) + "`"
    text = "\n".join([
        f"Command: {command}",
        "",
        f"Machine: {machine().rsplit(', PostgreSQL', 1)[0]}; server, load generator and echo "
        "server on the same machine (3 processes on 2 cores).",
        f"Date: {date.today().isoformat()}.",
        "",
        f"Each row: N fake FreeSWITCH calls held at once, each running `playback` after `playback` "
        f"(mean {options.interval:g} s per playback, so about N commands/s in all), measured for "
        f"{options.seconds:g} s after all N were up. Latency per command: from the fake's "
        "CHANNEL_EXECUTE_COMPLETE write to the app's next `sendmsg` arriving; echo: the same "
        "bytes, rate and N against a raw gevent socket server that answers each turn blindly.",
        "",
        table(rows, options.seconds, options.interval),
        "",
        "Targets: >= 1,000 calls held; <= 2 ms added per command at 1,000 calls.",
    ])
    print(text)
    if not options.quick and not options.no_write:
        write_docs(text)


if __name__ == "__main__":
    main()
