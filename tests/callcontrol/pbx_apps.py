"""Helpers of the PBX app tests (IVR, directory, follow-me, conferences): calls from the
fake FreeSWITCH into the real server running the registered apps, against real tenant
data."""

from __future__ import annotations

import gevent
import pytest
from django_tenants.utils import schema_context

from callcontrol.apps import default_apps
from tests.callcontrol.helpers import sendmsgs


@pytest.fixture
def pbx(harness):
    """The harness serving every app of ``CALLCONTROL_APP_MODULES``."""
    harness.apps.update(default_apps())
    return harness


def domain_of(account) -> str:
    return account.domains.get(is_primary=True).domain


def dial(harness, account, app: str, ref="", *, setup=None, **kwargs):
    """A call the tenant's dialplan hands to ``app`` with ``switchboard_ref`` = ref."""
    variables = {"switchboard_ref": str(ref)} if ref != "" else {}
    call = harness.call(app, domain=domain_of(account) if account else kwargs.pop("domain"),
                        variables=variables, **kwargs)
    if setup:
        setup(call)
    return call


def executed(call) -> list[tuple[str, str]]:
    """(app, arg) of every execute the server sent, in order (arg "" for none)."""
    return [(name, arg or "") for kind, name, arg, _ in sendmsgs(call) if kind == "execute"]


def apps_of(call) -> list[str]:
    return [name for name, _ in executed(call)]


def args_of(call, app: str) -> list[str]:
    return [arg for name, arg in executed(call) if name == app]


def hangups(call) -> list[str]:
    return [cause for kind, _, _, cause in sendmsgs(call) if kind == "hangup"]


def wait_for_nth(call, app: str, n: int, timeout: float = 8.0):
    """The n-th (1-based) execution of ``app`` once FreeSWITCH started it."""
    with gevent.Timeout(timeout, AssertionError(f"{app} #{n} was never executed: {call.apps}")):
        while True:
            runs = [e for e in call.executions if e.app == app]
            if len(runs) >= n:
                return runs[n - 1]
            gevent.sleep(0.01)


def bridge_outcomes(call, *causes: str) -> list[str]:
    """Each bridge the app runs ends as the next cause ("SUCCESS": answered). Returns
    the dial strings bridged, filled in as they happen."""
    pending = list(causes)
    dialed: list[str] = []

    def bridge(fake, execution):
        dialed.append(execution.arg)
        fake.bridge_outcome = pending.pop(0)
        return fake._bridge()

    call.behaviours["bridge"] = bridge
    return dialed


def in_schema(account, fn):
    with schema_context(account.schema_name):
        return fn()


def ready_prompt(account, name: str):
    """A converted Prompt of ``account`` (as the media task leaves it)."""
    from pbx.models import MediaStatus, Prompt

    with schema_context(account.schema_name):
        return Prompt.objects.create(name=name, upload=f"{account.schema_name}/prompt/{name}.wav",
                                     status=MediaStatus.READY)


def transfer_of(call) -> str:
    """The destination of the app's transfer ("" if none)."""
    args = args_of(call, "transfer")
    assert len(args) <= 1, args
    return args[0].split(" ")[0] if args else ""
