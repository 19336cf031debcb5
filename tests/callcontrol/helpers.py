"""Small helpers shared by the call-control tests."""

from __future__ import annotations


def finish(harness, call, timeout=3.0):
    """Until the fake saw the socket close and the server finished the call."""
    assert call.wait_closed(timeout)
    harness.wait_idle(timeout)


def sendmsgs(call):
    """The ``sendmsg`` commands the fake received: (call-command, app, arg, hangup cause)."""
    return [(c.headers.get("call-command"), c.headers.get("execute-app-name"),
             c.headers.get("execute-app-arg"), c.headers.get("hangup-cause"))
            for c in call.commands if c.line == "sendmsg"]
