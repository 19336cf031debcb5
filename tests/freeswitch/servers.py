"""The Switchboard processes a real FreeSWITCH talks to during the tests, each a real
process as in production: the web server (granian on ``switchboard.wsgi``, the xml_curl
endpoint) and the call-control server (``manage.py run_callcontrol``, with the node
manager's event-socket connection to the FreeSWITCH).

Both run ``tests.freeswitch.server_settings``: the test process's database (the data a
test writes is committed, see ``conftest.py``), cache keys and media directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.freeswitch.harness import LOOPBACK, REPO, HarnessError

READY_TIMEOUT = 30.0


def server_environment(*, database: str, caches: dict, media_root: str, media_base: str,
                       extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.freeswitch.server_settings",
        "SWITCHBOARD_TEST_SERVER_DATABASE": database,
        "SWITCHBOARD_TEST_SERVER_DEFAULT_CACHE_PREFIX": caches["default"].get("KEY_PREFIX", ""),
        "SWITCHBOARD_TEST_SERVER_FSCONF_CACHE_PREFIX": caches["fsconf"].get("KEY_PREFIX", ""),
        "SWITCHBOARD_TEST_SERVER_FSCONF_CACHE_DIR": str(caches["fsconf"].get("LOCATION", "")),
        "SWITCHBOARD_TEST_SERVER_MEDIA_ROOT": media_root,
        "SWITCHBOARD_TEST_SERVER_MEDIA_BASE": media_base,
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


class ServerProcess:
    """A child process with its output in ``log_file``."""

    name = "server"

    def __init__(self, command: list[str], env: dict[str, str], log_file: Path) -> None:
        self.command = command
        self.env = env
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    def launch(self) -> None:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process else None
            raise HarnessError(f"the {self.name} process exited ({code}):\n{self.log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def log_size(self) -> int:
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def log_since(self, offset: int, max_bytes: int = 50_000) -> str:
        if not self.log_file.exists():
            return ""
        with open(self.log_file, "rb") as handle:
            handle.seek(max(offset, self.log_size() - max_bytes))
            return handle.read().decode("utf-8", "replace")

    def log_tail(self, max_bytes: int = 8000) -> str:
        return self.log_since(0, max_bytes)


class WebServer(ServerProcess):
    """granian serving ``switchboard.wsgi:application``, as deploy/README.md runs it."""

    name = "web server"

    def __init__(self, port: int, env: dict[str, str], log_file: Path) -> None:
        granian = Path(sys.executable).with_name("granian")
        super().__init__(
            [str(granian), "--interface", "wsgi", "--workers", "1", "--blocking-threads", "4",
             "--no-access-log", "--log-level", "warning", "--host", LOOPBACK, "--port", str(port),
             "switchboard.wsgi:application"],
            env, log_file,
        )
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}/freeswitch/"

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until the endpoint answers (401 to a request without credentials: alive, and
        Django has loaded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                urllib.request.urlopen(urllib.request.Request(self.url, data=b"", method="POST"), timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise HarnessError(f"the web server did not answer at {self.url}:\n{self.log_tail()}")


class CallControlServer(ServerProcess):
    """``manage.py run_callcontrol``: the outbound event-socket server the dialplan's
    ``socket`` action reaches, and the node manager connected to the FreeSWITCH."""

    name = "call-control server"

    def __init__(self, port: int, env: dict[str, str], log_file: Path) -> None:
        super().__init__([sys.executable, "manage.py", "run_callcontrol", "--listen", f"{LOOPBACK}:{port}"],
                         env, log_file)
        self.port = port

    def wait_ready(self, node_name: str, timeout: float = READY_TIMEOUT) -> None:
        """Until it accepts connections and its node manager is connected to the node."""
        # From its log: a test connection to the port would be taken for a call.
        deadline = time.monotonic() + timeout
        needed = (f"call control listening on {LOOPBACK}:{self.port}", f"node {node_name}: connected to")
        while time.monotonic() < deadline:
            self.check_alive()
            log = self.log_since(0)
            if all(line in log for line in needed):
                return
            time.sleep(0.1)
        raise HarnessError(f"the call-control server is not ready (listening on {self.port} and "
                           f"connected to node {node_name}):\n{self.log_tail()}")
