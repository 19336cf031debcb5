"""The outbound call-control server holding many calls, against a raw-socket echo server.

Usage: .venv/bin/python -m bench.callcontrol [--quick] [--sessions 100 1000 2000]
       [--seconds 15] [--interval 1.0] [--no-write]
       .venv/bin/python -m bench.callcontrol --greenswitch [--runs 3] [--sessions 1000] ...

Three processes per row, all on this machine:

* **ours**: ``CallControlServer`` (the class ``manage.py run_callcontrol`` runs) with one app,
  ``bench_loop``: answer, then ``play()`` until the caller goes away. Each ``play`` is a
  ``sendmsg`` execute with its Event-UUID, answered by the CHANNEL_EXECUTE_COMPLETE
  carrying it (``esl``, the protocol package).
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

``--greenswitch`` (the ``bench`` extra: ``pip install -e '.[bench]'``) adds a fourth process
per row, **greenswitch**: its ``OutboundESLServer`` / ``OutboundSession`` running the same
script (``myevents``, ``linger``, a blocking ``answer``, then blocking ``playback`` after
``playback``), against the same load generator, N and rate, right after ours (default
1,000 calls; ``--runs`` repeats echo, ours, greenswitch). The load generator answers every
execute with a completion naming the app it ran (``Application`` and
``variable_current_application``, which is what greenswitch matches). Then the correctness
cases, each run against both on the fake FreeSWITCH (``tests/fakes/freeswitch_outbound.py``)
in one process, reported pass/fail:

* **forged caller name**: ``Caller-Caller-ID-Name`` (connect reply and every event) is
  ``Evil`` + line break + ``Event-Name: CHANNEL_EXECUTE_COMPLETE``, which FreeSWITCH sends
  URL-encoded (``Evil%0AEvent-Name%3A%20CHANNEL_EXECUTE_COMPLETE``). Passes if the name is
  read intact and each of two playbacks returns on its own completion once its prompt has
  ended (a header decoded before the lines are split overrides the event's real name:
  Event-Name is its first header);
* **two playbacks, each waited for**: ``playback`` twice; each must return on its own
  completion (Application-UUID);
* **two playbacks, the first given up**: the app stops waiting for a 0.4 s prompt after
  0.1 s, then plays a 0.05 s one: the second must return on its own completion, not on the
  first's (which arrives while the second waits).

Their table goes into its own part of the same section ("Beside greenswitch").
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


def serve_greenswitch(port: int, stats_path: str, max_calls: int) -> None:
    """The same script through greenswitch's outbound server and session, as shipped."""
    raise_fd_limit()
    import logging

    logging.disable(logging.INFO)  # greenswitch logs every call at INFO
    import gevent
    from greenswitch.esl import NotConnectedError, OutboundESLServer

    # The orchestrator's "is it listening yet" probe connects and closes at once; greenswitch's
    # accept greenlet then dies with NotConnectedError. Not worth a traceback.
    gevent.get_hub().NOT_ERROR += (NotConnectedError,)

    class BenchLoop:
        """greenswitch's application: built with the session, then ``run()`` in a greenlet
        (the server has already sent ``connect``)."""

        def __init__(self, session) -> None:
            self.session = session

        def run(self) -> None:
            session = self.session
            session.myevents()
            session.linger()
            session.call_command("answer", block=True)
            while True:
                session.playback(PROMPT)

    server = OutboundESLServer("127.0.0.1", port, application=BenchLoop, max_connections=max_calls)

    def report() -> None:
        while True:
            Path(stats_path).write_text(json.dumps({"sessions": server.connection_count}))
            gevent.sleep(0.25)

    gevent.spawn(report)
    # Not server.stop(): it joins every call's greenlet, and a session whose socket closed
    # without a disconnect-notice (the load generator just goes) is never woken.
    gevent.signal_handler(signal.SIGTERM, lambda: os._exit(0))
    server.listen()


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


def turn_templates(app: str = "playback") -> tuple[bytes, bytes]:
    """(connect reply, execute + completion of ``app``) from the captures (the playback
    events, renamed for another app), for one call whose Unique-ID is the captured one
    (replaced per call: same length)."""
    from tests.fakes.freeswitch_outbound import (
        connect_reply_template,
        event_template,
        frame_block,
        frame_event,
    )

    def with_app(headers):
        values = {"Application": app, "Application-Data": PROMPT if app == "playback" else "",
                  "Application-UUID": EVENT_UUID_PLACEHOLDER,
                  "Application-Response": "FILE PLAYED" if app == "playback" else "_none_",
                  "variable_current_application": app}
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
    # Each execute is answered with its own app's completion (greenswitch matches the name).
    answer_turn = turn_templates("answer")[1]
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
        my_answer_turn = answer_turn.replace(CAPTURED_UUID.encode(), call_uuid.encode())
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
                    this_turn = my_answer_turn if headers.get("execute-app-name") == "answer" else my_turn
                    sent_at = time.perf_counter()
                    sock.sendall(this_turn.replace(EVENT_UUID_PLACEHOLDER.encode(), event_uuid.encode()))
                elif name == "exit":
                    return
        except OSError:
            state["failed"] += 1
        finally:
            sock.close()

    greenlets = []
    for index in range(calls):
        greenlets.append(gevent.spawn(one_call, index))
        if index % 50 == 49:
            # 500 connects/s: below the listen backlog of each server. greenswitch's
            # accepts from a backlog of 100 every 0.1 s; at 2,000/s it lost connections
            # (the kernel drops the handshake's last ACK when that queue is full).
            gevent.sleep(0.1)
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


# -- correctness cases (both implementations, one process, the fake FreeSWITCH) -------------

FORGED_NAME = "Evil\nEvent-Name: CHANNEL_EXECUTE_COMPLETE"
FIRST_PROMPT, SECOND_PROMPT = "tone_stream://%(400,0,440)", "tone_stream://%(50,0,600)"
CASE_FORGED_NAME = "forged caller name"
CASE_TWO_WAITED = "two playbacks, each waited for"
CASE_FIRST_GIVEN_UP = "two playbacks, the first given up"
CASES = (CASE_FORGED_NAME, CASE_TWO_WAITED, CASE_FIRST_GIVEN_UP)
GIVE_UP_AFTER = 0.1


class OursSide:
    """The case script's view of one of our sessions."""

    def __init__(self, session) -> None:
        self.session = session

    def caller_name(self) -> str:
        return self.session.channel.get("Caller-Caller-ID-Name", "")

    def answer(self) -> None:
        self.session.answer()

    def play(self, prompt: str) -> tuple[str, bool]:
        """(Application-UUID of what the wait returned on, whether that was a completion)."""
        event = self.session.play(prompt).event
        return event.get("Application-UUID", ""), bool(event.get("Application-Response", ""))

    def play_giving_up(self, prompt: str, seconds: float) -> bool:
        from callcontrol.session import CommandTimeout

        try:
            self.session.play(prompt, timeout=seconds)
        except CommandTimeout:
            return True
        return False


class GreenswitchSide:
    """The same through greenswitch's ``OutboundSession`` (its blocking calls)."""

    def __init__(self, session) -> None:
        self.session = session

    def caller_name(self) -> str:
        return (self.session.session_data or {}).get("Caller-Caller-ID-Name", "")

    def answer(self) -> None:
        self.session.call_command("answer", block=True)

    def play(self, prompt: str) -> tuple[str, bool]:
        headers = self.session.playback(prompt).headers
        return headers.get("Application-UUID", ""), bool(headers.get("Application-Response", ""))

    def play_giving_up(self, prompt: str, seconds: float) -> bool:
        import gevent

        try:
            self.session.call_command("playback", prompt, block=True, response_timeout=seconds)
        except gevent.Timeout:
            return True
        return False


def case_script(case: str, side, call) -> dict:
    """Run ``case`` on one call; {"passed": bool, "detail": what happened}."""
    name = side.caller_name()
    side.answer()
    gave_up = None
    if case == CASE_FIRST_GIVEN_UP:
        gave_up = side.play_giving_up(FIRST_PROMPT, GIVE_UP_AFTER)
        prompts = [SECOND_PROMPT]
    else:
        prompts = [FIRST_PROMPT, SECOND_PROMPT]
    returned = [(prompt, *side.play(prompt)) for prompt in prompts]
    uuids = {e.event_uuid: e.arg for e in call.executions if e.app == "playback"}
    label = {FIRST_PROMPT: "the first playback", SECOND_PROMPT: "the second playback"}
    passed, details = True, []
    if case == CASE_FORGED_NAME:
        intact = name == FORGED_NAME
        passed &= intact
        details.append("name read intact" if intact else f"name read as {name!r}")
    if gave_up is not None and not gave_up:
        passed = False
        details.append("the first playback was not given up")
    for prompt, app_uuid, is_completion in returned:
        execution = next(e for e in call.executions if e.app == "playback" and e.arg == prompt)
        own = app_uuid == execution.event_uuid and is_completion
        finished = execution.completed.is_set()
        passed &= own and finished
        if own and finished:
            details.append(f"{label[prompt]} returned on its own completion")
        else:
            source = uuids.get(app_uuid)
            whose = ("its own" if source == prompt
                     else f"{label[source]}'s" if source else "an unknown app's")
            kind = "CHANNEL_EXECUTE_COMPLETE" if is_completion else "CHANNEL_EXECUTE"
            details.append(f"{label[prompt]} returned on {whose} {kind}"
                           + ("" if finished else ", before its prompt ended"))
    return {"passed": passed, "detail": "; ".join(details)}


def run_case(implementation: str, case: str) -> dict:
    """One fake call through ``implementation``'s server, running ``case``."""
    import gevent
    from gevent.event import AsyncResult

    from tests.fakes.freeswitch_outbound import FakeCall

    outcome: AsyncResult = AsyncResult()
    holder: dict = {}

    def script(side) -> None:
        try:
            outcome.set(case_script(case, side, holder["call"]))
        except Exception as exc:  # a defect of the implementation under test is a result
            outcome.set({"passed": False, "detail": f"{type(exc).__name__}: {exc}"})

    if implementation == "ours":
        from callcontrol.server import CallControlServer

        server = CallControlServer(("127.0.0.1", 0), {"case": lambda session: script(OursSide(session))},
                                   handshake_timeout=2.0)
        server.start()
        address, stop = server.address, lambda: server.stop(timeout=1)
    else:
        from greenswitch.esl import OutboundESLServer

        class CaseApp:
            def __init__(self, session) -> None:
                self.session = session

            def run(self) -> None:
                self.session.myevents()
                self.session.linger()
                script(GreenswitchSide(self.session))

        port = free_port()
        gs_server = OutboundESLServer("127.0.0.1", port, application=CaseApp, max_connections=10)
        listening = gevent.spawn(gs_server.listen)
        while not gs_server._running:  # listen() binds, then loops on accept
            gevent.sleep(0.01)
        address = ("127.0.0.1", port)

        def stop() -> None:
            gs_server.stop()
            listening.join(timeout=3)
            listening.kill(block=True, timeout=1)

    call = FakeCall(address, variables={"switchboard_app": "case"})
    holder["call"] = call
    if case == CASE_FORGED_NAME:
        call.header_values.update({"Caller-Caller-ID-Name": FORGED_NAME,
                                   "Channel-Caller-ID-Name": FORGED_NAME})
    call.playback_lengths.update({FIRST_PROMPT: 0.4 if case == CASE_FIRST_GIVEN_UP else 0.15,
                                  SECOND_PROMPT: 0.05})
    try:
        return outcome.get(timeout=10)
    except gevent.Timeout:
        return {"passed": False, "detail": "the script did not finish within 10 s"}
    finally:
        call.cleanup()
        stop()


def run_cases() -> None:
    """Every case against both implementations; prints one JSON line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench_unused")
    os.environ["LOG_LEVEL"] = "ERROR"  # our server logs the case's deliberate timeout
    import logging

    logging.disable(logging.WARNING)
    import django

    django.setup()
    results = {impl: {case: run_case(impl, case) for case in CASES} for impl in ("ours", "greenswitch")}
    print(json.dumps(results), flush=True)


def cases_table(results: dict) -> str:
    lines = ["| case | ours | greenswitch 0.0.19 |", "|---|---|---|"]
    for case in CASES:
        cells = []
        for impl in ("ours", "greenswitch"):
            result = results[impl][case]
            cells.append(("pass" if result["passed"] else "**FAIL**") + f": {result['detail']}")
        lines.append(f"| {case} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


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
    elif mode == "greenswitch":
        server = _spawn(["--role", "greenswitch", str(port), str(stats), str(calls + 100)])
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
                    if mode != "echo":
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


def comparison_table(rows: list[tuple[int, str, int, dict, dict, dict]]) -> str:
    """One line per implementation and run: (run, load average, calls, echo, ours, greenswitch)."""
    lines = [
        "| run | calls | implementation | held at once | server RSS idle / held MiB | RSS per call KiB "
        "| commands measured | server CPU per command ms | p50 / p99 ms | added over echo p50 / p99 ms "
        "| failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run, load, calls, echo, ours, greenswitch in rows:
        lines.append(f"| {run} (load {load}) | {calls:,} | echo (baseline) | | | "
                     f"| {echo.get('commands', 0):,} | | {echo.get('p50', 0):.2f} / {echo.get('p99', 0):.2f} "
                     f"| | {echo.get('failed', 0)} |")
        for name, result in (("ours", ours), ("greenswitch", greenswitch)):
            per_call = (result["peak_rss_kib"] - result["idle_rss_kib"]) / max(calls, 1)
            lines.append(
                f"| | | {name} | {result['sessions']:,} | {result['idle_rss_kib'] / 1024:.1f} / "
                f"{result['peak_rss_kib'] / 1024:.1f} | {per_call:.1f} | {result.get('commands', 0):,} "
                f"| {result.get('cpu_per_command_ms', 0):.2f} "
                f"| {result.get('p50', 0):.2f} / {result.get('p99', 0):.2f} "
                f"| {result.get('p50', 0) - echo.get('p50', 0):.2f} / "
                f"{result.get('p99', 0) - echo.get('p99', 0):.2f} | {result.get('failed', 0)} |")
    return "\n".join(lines)


BEGIN, END = "<!-- bench.callcontrol: begin -->", "<!-- bench.callcontrol: end -->"
GS_BEGIN = "<!-- bench.callcontrol greenswitch: begin -->"
GS_END = "<!-- bench.callcontrol greenswitch: end -->"
GS_HEADING = "### Beside greenswitch's outbound session (issue 11)"


def write_docs(text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the generated part between ``begin`` and ``end`` (add it the first time: the
    call-control section, or greenswitch's subsection at that section's end); prose around
    the markers is kept."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    block = f"{begin}\n{text}\n{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    elif begin == GS_BEGIN and "\n## Call-control server" in doc:
        start = doc.index("\n## Call-control server") + 1
        next_section = doc.find("\n## ", start)
        at = len(doc) if next_section < 0 else next_section
        doc = doc[:at].rstrip("\n") + f"\n\n{GS_HEADING}\n\n{block}\n" + doc[at:]
    else:
        doc = doc.rstrip("\n") + "\n\n## Call-control server (issue 4)\n\n" + block + "\n"
    path.write_text(doc)
    print(f"written to {path}")


def compare_with_greenswitch(options: argparse.Namespace, limit: int) -> None:
    """Echo, ours and greenswitch per row and run, then the correctness cases."""
    import importlib.util

    if importlib.util.find_spec("greenswitch") is None:
        raise SystemExit("greenswitch is not installed: .venv/bin/python -m pip install -e '.[bench]'")
    from bench.common import machine

    rows = []
    for run in range(1, options.runs + 1):
        load = f"{os.getloadavg()[0]:.1f}"
        for calls in options.sessions:
            if calls * 2 + 64 > limit:
                print(f"skipping {calls} calls: ulimit -n {limit} is too low")
                continue
            echo = measure("echo", calls, options.seconds, options.interval)
            ours = measure("ours", calls, options.seconds, options.interval)
            greenswitch = measure("greenswitch", calls, options.seconds, options.interval)
            print(f"run {run}, {calls} calls (load {load}): ours {ours} / greenswitch {greenswitch} "
                  f"/ echo {echo}", flush=True)
            rows.append((run, load, calls, echo, ours, greenswitch))
    cases = subprocess.run([sys.executable, "-m", "bench.callcontrol", "--role", "cases"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    try:
        case_results = json.loads(cases.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise SystemExit(f"the correctness cases failed to run:\n{cases.stderr}") from None
    arguments = ["--greenswitch"]
    if options.runs != 1:
        arguments.append(f"--runs {options.runs}")
    if options.sessions != [1000]:
        arguments.append("--sessions " + " ".join(map(str, options.sessions)))
    text = "\n".join([
        f"Command: `.venv/bin/python -m bench.callcontrol {' '.join(arguments)}`",
        "",
        f"Machine: {machine().rsplit(', PostgreSQL', 1)[0]}; server under test, load generator "
        "and echo server on the same machine; greenswitch "
        f"{_greenswitch_version()}, gevent {_version('gevent')}.",
        f"Date: {date.today().isoformat()}. Load: the 1-minute load average when each run began.",
        "",
        f"Each run measures the echo baseline, ours, then greenswitch, one after the other with the "
        f"same N fake FreeSWITCH calls, each running a blocking `answer` then blocking `playback` "
        f"after `playback` (mean {options.interval:g} s per playback), measured for {options.seconds:g} s "
        "after all N were up; latency per command from the fake's CHANNEL_EXECUTE_COMPLETE write to "
        "the next `sendmsg` arriving.",
        "",
        comparison_table(rows),
        "",
        "Correctness (one fake call each, `tests/fakes/freeswitch_outbound.py`):",
        "",
        cases_table(case_results),
    ])
    print(text)
    if not options.quick and not options.no_write:
        write_docs(text, GS_BEGIN, GS_END)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def _greenswitch_version() -> str:
    return _version("greenswitch")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        role, args = sys.argv[2], sys.argv[3:]
        if role == "server":
            serve_ours(int(args[0]), args[1], int(args[2]))
        elif role == "echo":
            serve_echo(int(args[0]), int(args[1]))
        elif role == "greenswitch":
            serve_greenswitch(int(args[0]), args[1], int(args[2]))
        elif role == "load":
            run_load(args[0], int(args[1]), int(args[2]), float(args[3]), float(args[4]))
        elif role == "cases":
            run_cases()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 calls for 3 s, nothing written")
    parser.add_argument("--sessions", type=int, nargs="+",
                        help="default 100 1000 2000 (1000 with --greenswitch)")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0, help="mean playback length, s")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--greenswitch", action="store_true",
                        help="ours beside greenswitch's outbound session, and the correctness cases")
    parser.add_argument("--runs", type=int, default=1, help="with --greenswitch: repeat the measurements")
    options = parser.parse_args()
    if options.sessions is None:
        options.sessions = [1000] if options.greenswitch else [100, 1000, 2000]
    if options.quick:
        options.sessions, options.seconds = [50], 3.0
    limit = raise_fd_limit()
    print(f"open-files limit {limit}")
    if options.greenswitch:
        compare_with_greenswitch(options, limit)
        return
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
