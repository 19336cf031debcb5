"""``CallSession``: one object per call, read as straight-line code::

    def app(session):
        session.answer()
        digits = session.collect(1, 4, timeout=5, terminators="#", prompt="ivr/ivr-enter_ext.wav")
        result = session.bridge([f"user/{digits}@{session.domain}"], timeout=20)
        if not result.connected:
            session.play("ivr/ivr-not_available.wav")
        session.hangup()

Every primitive waits for FreeSWITCH to finish the application (its CHANNEL_EXECUTE_COMPLETE,
matched by Application-UUID) within a timeout and raises :class:`CallerHungUp` as soon as
the caller hangs up or FreeSWITCH drops the socket (:mod:`esl.connection`).

Database access: the session runs in a gevent greenlet on the process's main thread, so
all sessions share one database connection and its django-tenants schema. Queries block
the hub (no other call runs meanwhile), so ``with session.tenant_schema(): ...`` is safe
as long as nothing inside it waits on the call: the primitives refuse to run inside it.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.db import connection as db_connection

from esl.connection import (
    CallControlError,
    CallEnded,
    CallerHungUp,
    CommandFailed,
    CommandTimeout,
    OutboundConnection,
)
from esl.framing import EventHeaders, Message
from esl.variables import ChannelVariables

__all__ = [
    "BridgeResult",
    "CallControlError",
    "CallEnded",
    "CallSession",
    "CallerHungUp",
    "CommandFailed",
    "CommandTimeout",
    "Completion",
    "UnknownTenant",
]

ANSWER_TIMEOUT = 10.0
SET_TIMEOUT = 5.0
TRANSFER_TIMEOUT = 10.0
# Prompts have no known length here: a play/collect may take this long beyond its own
# timeouts before we give up on it.
PROMPT_ALLOWANCE = 120.0
MAX_BRIDGED_SECONDS = 4 * 3600.0
SILENCE = "silence_stream://250"
DIGITS_VARIABLE = "cc_digits"

_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class UnknownTenant(CallControlError):
    """The call's ``domain_name`` belongs to no (serving) account."""


@dataclass(frozen=True)
class Completion:
    """An application's CHANNEL_EXECUTE_COMPLETE."""

    app: str
    response: str  # Application-Response ("_none_", "FILE PLAYED", ...)
    variables: dict[str, str] = field(repr=False)  # channel variables at completion
    event: Message = field(repr=False)

    @classmethod
    def from_event(cls, event: Message) -> Completion:
        headers = event.event or {}
        if isinstance(headers, EventHeaders):
            # Most completions are never asked for a variable: decode them on first read.
            variables: dict[str, str] = ChannelVariables.of_event(headers.raw)
        else:
            variables = {k[9:]: v for k, v in headers.items() if k.startswith("variable_")}
        return cls(event.get("Application"), event.get("Application-Response"), variables, event)


@dataclass(frozen=True)
class BridgeResult:
    connected: bool  # a target answered (the conversation is over when this returns)
    cause: str  # DIALSTATUS / originate disposition: SUCCESS, USER_NOT_REGISTERED, NO_ANSWER ...
    completion: Completion = field(repr=False)


def whole_entry(regex: str) -> str:
    """``regex`` anchored at both ends: FreeSWITCH's switch_regex_match searches (PCRE2
    without anchoring), so ``\\d{3,6}`` alone would also accept ``12*345``."""
    return f"^(?:{regex})$"


def accepted_digits(variables: dict[str, str], min_digits: int, max_digits: int) -> str:
    """The entry a ``play_and_get_digits`` completion carries, or "".

    switch_play_and_get_digits returns on the first try whose keys are valid, with the
    digits variable holding them and ``read_result`` as that try's switch_ivr_read left
    it: ``success`` (terminator, or ``max_digits`` reached) or ``timeout`` (the caller
    stopped after at least ``min_digits`` keys). Every other end leaves no valid entry:
    ``failure`` after too few keys, which the variable may still hold, or a hangup
    mid-entry; keys failing the regex are moved to ``<var>_invalid`` and the variable is
    cleared; a prompt that cannot be played leaves ``read_result`` unset. The length is
    checked as well, as a guard (a terminator written ``+#`` would be appended).
    """
    if variables.get("read_result") not in ("success", "timeout"):
        return ""
    digits = variables.get(DIGITS_VARIABLE, "")
    return digits if min_digits <= len(digits) <= max_digits else ""


def _one_word(name: str, value: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"{name} must be one word: {value!r}")
    return value


class CallSession:
    def __init__(self, conn: OutboundConnection, *, app_name: str = "") -> None:
        self.conn = conn
        self.app_name = app_name
        self.started = time.monotonic()
        self.commands = 0
        self._tenant = None
        self._in_schema = 0

    def __repr__(self) -> str:
        return f"<CallSession {self.uuid} {self.app_name} {self.domain}>"

    # -- what FreeSWITCH told us -----------------------------------------------------------

    @property
    def uuid(self) -> str:
        return self.conn.uuid

    @property
    def channel(self) -> dict[str, str]:
        """The ``connect`` reply: Caller-*, Channel-*, Unique-ID ... (decoded)."""
        return self.conn.channel

    @property
    def variables(self) -> dict[str, str]:
        """Channel variables (decoded, without the ``variable_`` prefix), kept up to date
        from every event."""
        return self.conn.variables

    @property
    def domain(self) -> str:
        return self.variables.get("domain_name", "")

    @property
    def destination(self) -> str:
        return self.channel.get("Caller-Destination-Number", "")

    @property
    def caller_number(self) -> str:
        return self.channel.get("Caller-Caller-ID-Number", "")

    @property
    def ended(self) -> CallEnded | None:
        return self.conn.ended

    # -- tenant ----------------------------------------------------------------------------

    def tenant(self):
        """The account owning the call's ``domain_name`` (a ``tenants.tenancy.Tenant``),
        looked up once. Raises :class:`UnknownTenant` for unknown or non-serving ones."""
        if self._tenant is None:
            from tenants.tenancy import tenant_for_domain

            tenant = tenant_for_domain(self.domain) if self.domain else None
            if tenant is None or not tenant.serving:
                raise UnknownTenant(f"no serving account for domain {self.domain!r}")
            self._tenant = tenant
        return self._tenant

    @contextlib.contextmanager
    def tenant_schema(self) -> Iterator[object]:
        """Run database code in the tenant's schema; yields the Tenant. Do not call the
        session's primitives inside (they would let other calls run on the shared
        connection while it sits in this schema): they raise RuntimeError."""
        from django_tenants.utils import schema_context

        tenant = self.tenant()
        self._in_schema += 1
        try:
            with schema_context(tenant.account.schema_name):
                yield tenant
        finally:
            self._in_schema -= 1
            db_connection.set_schema_to_public()

    # -- primitives ------------------------------------------------------------------------

    def execute(self, app: str, arg: str = "", *, timeout: float, extend_on: str = "",
                extend_by: float = 0.0) -> Completion:
        """Any dialplan application; returns its completion."""
        if self._in_schema:
            raise RuntimeError("call primitives cannot run inside tenant_schema()")
        self.commands += 1
        event = self.conn.execute(app, arg, timeout=timeout, extend_on=extend_on, extend_by=extend_by)
        return Completion.from_event(event)

    def answer(self, *, timeout: float = ANSWER_TIMEOUT) -> None:
        self.execute("answer", timeout=timeout)

    def play(self, prompt: str, *, timeout: float = PROMPT_ALLOWANCE) -> Completion:
        """``playback`` (a file, a sound-prefix path, ``tone_stream://``, ``say:`` ...)."""
        return self.execute("playback", prompt, timeout=timeout)

    def collect(self, min_digits: int, max_digits: int, timeout: float, terminators: str = "#",
                prompt: str | None = None, *, tries: int = 1, invalid_prompt: str | None = None,
                regex: str = r"\d+", digit_timeout: float | None = None,
                wait_timeout: float | None = None) -> str:
        """``play_and_get_digits``: plays ``prompt`` (or a short silence), collects
        ``min_digits``..``max_digits`` digits; ``timeout`` seconds of silence per try end
        it; a terminator ends the input early. ``regex`` must match the whole entry.
        Returns the digits ("" for none/invalid).

        How FreeSWITCH ends a try (switch_ivr_read, switch_play_and_get_digits in
        switch_ivr_play_say.c; see ``accepted_digits``): a terminator or the last of
        ``max_digits`` gives ``read_result=success``; the caller stopping for
        ``digit_timeout`` after at least ``min_digits`` keys gives ``timeout`` -- valid
        keys all the same, the way a menu key without ``#`` arrives.
        """
        if not 0 <= min_digits <= max_digits or max_digits < 1:
            raise ValueError("need 0 <= min_digits <= max_digits, max_digits >= 1")
        digit_timeout = timeout if digit_timeout is None else digit_timeout
        args = [
            str(min_digits), str(max_digits), str(tries), str(round(timeout * 1000)),
            _one_word("terminators", terminators or "none"),
            _one_word("prompt", prompt or SILENCE),
            _one_word("invalid_prompt", invalid_prompt or SILENCE),
            DIGITS_VARIABLE, _one_word("regex", whole_entry(regex)), str(round(digit_timeout * 1000)),
        ]
        if wait_timeout is None:
            wait_timeout = tries * (timeout + max_digits * digit_timeout) + PROMPT_ALLOWANCE
        completion = self.execute("play_and_get_digits", " ".join(args), timeout=wait_timeout)
        self.conn.flush_dtmf()
        return accepted_digits(completion.variables, min_digits, max_digits)

    def bridge(self, targets: str | Sequence[str], timeout: float, *,
               max_duration: float = MAX_BRIDGED_SECONDS, ring_grace: float = 30.0) -> BridgeResult:
        """Ring ``targets`` (dial strings) at once for ``timeout`` seconds. Returns when
        the bridge attempt fails, whatever the cause, or, if someone answered, when the
        conversation ends (bounded by ``max_duration``) with the caller still on the line
        (``_prepare_bridge``). Until a leg answers, the wait is ``timeout`` + ``ring_grace``
        (originate setup, early media)."""
        if isinstance(targets, str):
            targets = [targets]
        if not targets:
            raise ValueError("bridge needs at least one target")
        for target in targets:
            if "\n" in target or "," in target.split("}", 1)[-1]:
                raise ValueError(f"bad bridge target {target!r}")
        self._prepare_bridge()
        dial = f"{{leg_timeout={max(1, round(timeout))}}}" + ",".join(targets)
        completion = self.execute("bridge", dial, timeout=timeout + ring_grace, extend_on="CHANNEL_BRIDGE",
                                  extend_by=max_duration)
        status = completion.variables.get("DIALSTATUS", "")
        cause = status if status == "SUCCESS" else (
            completion.variables.get("originate_disposition") or status or "UNKNOWN"
        )
        return BridgeResult(status == "SUCCESS", cause, completion)

    def _prepare_bridge(self) -> None:
        """Make the channel keep the caller after a bridge, whatever the dialplan set
        before handing the call over, so ``bridge`` returns to the app.

        After a failed bridge FreeSWITCH hangs the caller up with the bridge's cause
        (switch_channel_handle_cause, switch_channel.c) unless ``continue_on_fail`` allows
        that cause; without it only NO_ANSWER, NO_USER_RESPONSE and ORIGINATOR_CANCEL go
        on -- not ALLOTTED_TIMEOUT, which a ``leg_timeout`` gives, nor busy, rejected or
        not registered. After an answered bridge ``hangup_after_bridge=true`` (set by the
        dialplan's ring actions) hangs the caller up when the other side does
        (switch_ivr_multi_threaded_bridge, switch_ivr_bridge.c). Set once per call."""
        if self.variables.get("continue_on_fail") != "true":
            self.set("continue_on_fail", "true")
        if self.variables.get("hangup_after_bridge", "false").lower() not in ("false", "f", "no", "off", "0"):
            self.set("hangup_after_bridge", "false")

    def transfer(self, destination: str, *, context: str | None = None, dialplan: str = "XML",
                 timeout: float = TRANSFER_TIMEOUT, on_behalf: int | None = None) -> None:
        """Hand the call to the dialplan (default: the tenant's context, its domain), and
        let go of it. A ``~`` destination gets the proof the dialplan asks of our own
        transfers (pbx.routing.transfer_proof), made ``on_behalf`` of an extension when its
        follow-me sends the call on.

        No ``resume``: the transfer itself ends the ``socket`` app's park (CF_TRANSFER), and
        closing our socket then leaves the call alone. With ``resume`` set, mod_event_socket
        puts the channel into CS_RESET when our socket closes (listener_run's ``done:``,
        once CF_TRANSFER is cleared), which cancelled the transferred call's new bridge
        when the close came after it started: seen on the real switch under load as the
        attendant's destination answering and hung up at once with ORIGINATOR_CANCEL."""
        from pbx.models.destinations import TRANSFER_PREFIX
        from pbx.routing import TRANSFER_PROOF_VARIABLE, transfer_proof

        context = context or self.domain
        arg = " ".join(_one_word(n, v) for n, v in (
            ("destination", destination), ("dialplan", dialplan), ("context", context)))
        if self._in_schema:
            raise RuntimeError("call primitives cannot run inside tenant_schema()")
        self.conn.check_alive()
        if destination.startswith(TRANSFER_PREFIX):
            self.set(TRANSFER_PROOF_VARIABLE, transfer_proof(context, destination, on_behalf))
        self.execute("transfer", arg, timeout=timeout)
        self.conn.ended = self.conn.ended or CallEnded("transferred")

    def record(self, path: str, max_seconds: int, *, silence_threshold: int = 200,
               silence_seconds: int = 3) -> Completion:
        """``record`` to ``path`` (on the FreeSWITCH host) for at most ``max_seconds``;
        stops after ``silence_seconds`` of silence or on a terminator digit."""
        arg = f"{_one_word('path', path)} {int(max_seconds)} {int(silence_threshold)} {int(silence_seconds)}"
        return self.execute("record", arg, timeout=max_seconds + PROMPT_ALLOWANCE)

    def set(self, var: str, value: str, *, timeout: float = SET_TIMEOUT) -> None:
        if not _VARIABLE_NAME.match(var) or "\n" in value or "\r" in value:
            raise ValueError(f"bad channel variable {var!r}={value!r}")
        self.execute("set", f"{var}={value}", timeout=timeout)
        self.variables[var] = value

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """Hang up (a no-op if the call already ended)."""
        if self._in_schema:
            raise RuntimeError("call primitives cannot run inside tenant_schema()")
        self.commands += 1
        self.conn.hangup(_one_word("cause", cause))

    def next_dtmf(self, timeout: float) -> str | None:
        """The next digit pressed outside of ``collect`` (e.g. during a bridge or a
        playback), or None after ``timeout`` seconds."""
        return self.conn.next_dtmf(timeout)
