"""Database outage benchmark (issue 17): the production processes -- granian serving
``switchboard.wsgi`` as ``bin/run`` starts it (2 workers x 4 threads, psycopg pool of 4)
and ``manage.py run_callcontrol`` -- with PostgreSQL reached through the tests' proxy
(tests/dbproxy.py), cut for ``--outage`` seconds each way: refused (the server is down)
and black-holed (a network partition).

Before each cut every request of the "seen" set is answered once, then a write makes
their cached documents out of date (the platform generation is bumped), so during the
cut each of them needs the database and can only get the last known good answer. Figures:

* the first wave: the seen requests and fresh ("unseen") ones, 8 at once, right after
  the cut (connections opened before it are in the pool);
* steady state: every 0.5 s each seen request and an unseen one;
* call control: an auto-attendant call (the demo's main menu) from the fake FreeSWITCH
  (tests/fakes/freeswitch_outbound.py), during the cut and after it;
* recovery: from the database's return to the first fresh xml_curl answer and to the
  first call that gets its menu, then a burst of 16 requests (no thread left stuck).

``--kernel`` measures instead what bounds a query whose connection is cut by the kernel
(a real partition: every packet dropped), which a userspace proxy cannot show: see
``kernel_partition``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/switchboard .venv/bin/python -m bench.db_outage
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STALE_HEADER = "x-switchboard-stale"
CREDENTIALS = "fsxml:s3cret-xml"  # the captures' gateway credentials
SEEN = {
    "REGISTER acme 1001": ("directory-sip_auth-register-acme-1001-a1hash-ok", {}),
    "REGISTER beta 1001": ("directory-sip_auth-register-beta-1001-password-ok", {}),
    "user_call acme 1002": ("directory-user_call-acme-1002", {}),
    "call acme 1001 to 1002": ("dialplan-acme-1001-to-1002", {}),
    "call acme 1001 to 1003": ("dialplan-acme-1001-to-1002",
                               {"Destination-Number=1002": "Destination-Number=1003"}),
}
UNSEEN = ("directory-sip_auth-register-acme-1001-a1hash-ok", "=1001")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def capture(name: str, replacements: dict[str, str]) -> tuple[str, bytes]:
    from tests.fsconf.replay import request

    captured = request(name)
    body = captured.body
    for old, new in replacements.items():
        body = body.replace(old.encode(), new.encode())
    return captured.headers["authorization"], body


def unseen_body() -> tuple[str, bytes]:
    """A registration of a user never asked for: nothing cached to answer it with."""
    name, old = UNSEEN
    return capture(name, {old: f"=u{uuid.uuid4().hex[:10]}"})


@dataclass
class Answer:
    status: int
    stale: bool
    seconds: float


def post(port: int, request: tuple[str, bytes], timeout: float = 60.0) -> Answer:
    authorization, body = request
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/freeswitch/", body, {
            "Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded",
            "Connection": "close"})
        response = connection.getresponse()
        response.read()
        return Answer(response.status, response.getheader(STALE_HEADER) is not None,
                      time.monotonic() - started)
    except OSError:
        return Answer(0, False, time.monotonic() - started)
    finally:
        connection.close()


@dataclass
class Samples:
    seen: list[Answer] = field(default_factory=list)
    unseen: list[Answer] = field(default_factory=list)

    @staticmethod
    def line(answers: list[Answer]) -> str:
        if not answers:
            return "-"
        ms = sorted(a.seconds * 1000 for a in answers)
        statuses: dict[str, int] = {}
        for a in answers:
            key = f"{a.status}{' stale' if a.stale else ''}"
            statuses[key] = statuses.get(key, 0) + 1
        shown = ", ".join(f"{n}x {k}" for k, n in sorted(statuses.items()))
        return (f"{statistics.median(ms):.0f} / {ms[-1]:.0f} ms (median / max of {len(ms)}; {shown})")


@dataclass
class CallOutcome:
    outcome: str
    seconds: float


def ivr_call(address: tuple[str, int], menu_pk: int, timeout: float = 15.0) -> CallOutcome:
    """A call to the demo's main menu: "menu" once its greeting is offered, else how the
    call ended."""
    import gevent

    from callcontrol.conf import UNAVAILABLE_PROMPT
    from tests.fakes.freeswitch_outbound import FakeCall

    call = FakeCall(address, variables={"switchboard_app": "ivr", "switchboard_ref": str(menu_pk)},
                    domain="acme.example.net")
    started = time.monotonic()
    outcome = "no outcome"
    try:
        while time.monotonic() - started < timeout:
            if "play_and_get_digits" in call.apps:
                outcome = "menu"
                break
            if call.closed.is_set():
                played = ["the special information tone" if e.arg == UNAVAILABLE_PROMPT else e.arg
                          for e in call.executions if e.app == "playback"]
                outcome = f"{', '.join(played) or 'nothing played'}, hangup {call.hangup_cause or '-'}"
                break
            gevent.sleep(0.005)
        return CallOutcome(outcome, time.monotonic() - started)
    finally:
        call.hangup()
        call.wait_closed(3)
        call.cleanup()


def start(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            process_group=0)


def wait_http(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/", headers={"Host": "localhost"})
            connection.getresponse().read()
            return
        time.sleep(0.2)
    raise RuntimeError("the web server did not answer")


def wait_tcp(port: int, timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError("call control did not listen")


def outage(mode, proxy, web_port: int, cc_address: tuple[str, int], menu_pk: int,
           seconds: float) -> list[str]:
    from fsconf.cache import reset_platform_generation
    from tests.dbproxy import Mode

    seen = {label: capture(*spec) for label, spec in SEEN.items()}
    warm = [post(web_port, request) for request in seen.values()]
    before = ivr_call(cc_address, menu_pk)
    reset_platform_generation()  # a write: every cached document is out of date now

    lines = [f"#### {mode}: {seconds:.0f} s", ""]
    proxy.set_mode(mode)
    cut = time.monotonic()
    first = Samples()
    with ThreadPoolExecutor(8) as pool:
        wave = [("seen", pool.submit(post, web_port, request)) for request in seen.values()]
        wave += [("unseen", pool.submit(post, web_port, unseen_body())) for _ in range(3)]
        for kind, future in wave:
            getattr(first, kind).append(future.result())
    during_call = ivr_call(cc_address, menu_pk)
    steady = Samples()
    while time.monotonic() - cut < seconds:
        for request in seen.values():
            steady.seen.append(post(web_port, request))
        steady.unseen.append(post(web_port, unseen_body()))
        time.sleep(0.5)
    later_call = ivr_call(cc_address, menu_pk)

    proxy.set_mode(Mode.PASS)
    back = time.monotonic()
    probe_request = seen["REGISTER acme 1001"]
    while True:
        answer = post(web_port, probe_request)
        if (answer.status == 200 and not answer.stale) or time.monotonic() - back > 60:
            break
        time.sleep(0.01)
    xml_recovery = time.monotonic() - back
    while True:
        call = ivr_call(cc_address, menu_pk)
        if call.outcome == "menu" or time.monotonic() - back > 60:
            break
    cc_recovery = time.monotonic() - back
    with ThreadPoolExecutor(16) as pool:
        burst = list(pool.map(lambda request: post(web_port, request),
                              [*seen.values(), *[unseen_body() for _ in range(11)]]))
    lines += [
        "| what | answer time | |",
        "|---|---|---|",
        f"| before the cut, seen | {Samples.line(warm)} | |",
        f"| call control, before the cut | {before.seconds * 1000:.0f} ms | {before.outcome} |",
        f"| first wave, seen (needing the database) | {Samples.line(first.seen)} | |",
        f"| first wave, unseen | {Samples.line(first.unseen)} | |",
        f"| steady, seen | {Samples.line(steady.seen)} | |",
        f"| steady, unseen | {Samples.line(steady.unseen)} | |",
        f"| call control, first call after the cut | {during_call.seconds * 1000:.0f} ms "
        f"| {during_call.outcome} |",
        f"| call control, {seconds:.0f} s into the cut | {later_call.seconds * 1000:.0f} ms "
        f"| {later_call.outcome} |",
        f"| database back -> first fresh xml_curl answer | {xml_recovery * 1000:.0f} ms | |",
        f"| database back -> first call reaching its menu | {cc_recovery * 1000:.0f} ms | |",
        f"| burst of 16 after recovery | {Samples.line(burst)} | |",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=15.0, help="seconds each cut lasts")
    parser.add_argument("--modes", default="refuse,blackhole", help="which cuts, in order")
    parser.add_argument("--kernel", action="store_true",
                        help="the kernel-level partition measurement instead")
    args = parser.parse_args()
    if args.kernel:
        from bench.db_partition import main as kernel_main

        return kernel_main()

    from bench.common import machine, use_bench_database

    url = use_bench_database("bench_db_outage")
    prefix = f"bench-outage-{os.getpid()}"
    os.environ.update({"DJANGO_SETTINGS_MODULE": "switchboard.settings", "SWITCHBOARD_CACHE_PREFIX": prefix,
                       "FREESWITCH_GATEWAY_CREDENTIALS": CREDENTIALS})
    for command in (["migrate_all", "--verbosity", "0"], ["seed_demo"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import schema_context

    from pbx.demo import MAIN_MENU
    from pbx.models import Ivr
    from switchboard.devstack import web_server_command
    from tenants.models import Domain
    from tests.dbproxy import DatabaseProxy, Mode

    with schema_context(Domain.objects.get(domain="acme.example.net").tenant.schema_name):
        menu_pk = Ivr.objects.get(name=MAIN_MENU).pk
    connection.close()

    log_dir = Path(tempfile.mkdtemp(prefix="bench-db-outage-"))
    web_port, cc_port = free_port(), free_port()
    lines: list[str] = []
    with DatabaseProxy.for_settings(connection.settings_dict) as proxy:
        env = {**os.environ, "DATABASE_URL": proxy.database_url(url), "LOG_LEVEL": "WARNING"}
        static = log_dir / "static"
        static.mkdir()
        children = [
            start("web", web_server_command("127.0.0.1", web_port, "/static", static),
                  {**env, "DATABASE_POOL_SIZE": "4", "PGAPPNAME": "bench-outage-web"}, log_dir),
            start("callcontrol", [PYTHON, "manage.py", "run_callcontrol", "--no-manager",
                                  "--listen", f"127.0.0.1:{cc_port}"],
                  {**env, "PGAPPNAME": "bench-outage-callcontrol"}, log_dir),
        ]
        try:
            wait_http(web_port)
            wait_tcp(cc_port)
            for mode in [Mode(name) for name in args.modes.split(",")]:
                lines += outage(mode, proxy, web_port, ("127.0.0.1", cc_port), menu_pk, args.outage)
        finally:
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, 15)
            for child in children:
                child.wait(10)
    logs = {path.stem: path.read_text(errors="replace") for path in log_dir.glob("*.log")}
    lines += [
        "Log lines \"database unreachable\" / \"reachable again\" per process log (two cuts): "
        + ", ".join(f"{name} {text.count('database unreachable')} / {text.count('reachable again')}"
                    for name, text in sorted(logs.items())),
        "", f"Machine: {machine()}; logs in {log_dir}",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
