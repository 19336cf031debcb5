"""What the nodes say right now about one tenant, for the portal's live dashboard: its
registered phones and its calls in progress.

* Registered phones: ``sofia xmlstatus profile internal reg`` (mod_sofia's own
  ``sip_registrations`` table, one ``<registration>`` per contact: ``<user>`` is
  ``user@host``, the host the phone registered to, ``<agent>`` its User-Agent,
  ``<network-ip>``/``<network-port>``, ``<status>`` with the transport and the seconds
  left). A phone is the tenant's when that host is one of the account's domains (any
  case). Not ``show registrations``: FreeSWITCH's core table keeps a registration that
  ``flush_inbound_reg`` dropped (an account suspended) until it would
  have expired, and lists no User-Agent for most phones
  (``tests/fixtures/freeswitch/esl/inbound/registrations/``). Not ``… user @domain``,
  which filters on the switch: that would be one question per tenant instead of one per
  node.
* Calls in progress: ``show calls as json`` (the ``basic_calls`` view: one row per call,
  a-leg with its bridged b-leg). It holds no channel variables, so ``switchboard_account``
  cannot be read there; a call is the tenant's when a leg names one of its domains -- the
  ``accountcode`` the directory gives its phones (``fsconf.sections.directory``), the
  domain of a ``presence_id`` (every leg we ring carries ``<ext>@<domain>``,
  ``pbx.ringing``) or of the channel's name (``sofia/internal/1001@acme.example.net``)
  -- or when the a-leg dialed one of its phone numbers (a DID call to an attendant or a
  conference, which rings nobody).

Every node is asked at most once per :data:`CACHE_SECONDS` per web process whatever the
number of tenants looking (the answer is kept whole, then filtered per tenant), with a
short connect timeout; a node that does not answer is remembered as unreachable for
:data:`DOWN_SECONDS` whatever the command, so a page waits on a dead node at most once
per period. Nothing here
raises for a node: the caller is told which nodes did not answer.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings

from esl.client import ESLError
from fsnodes.manager import CommandClient, OneShotClient, get_client
from fsnodes.models import FreeswitchNode

log = logging.getLogger(__name__)

CACHE_SECONDS = 3.0
# A node that did not answer is not asked again (for any command) for this long: a
# black-holed node costs a page at most one connect timeout per period and process.
DOWN_SECONDS = 10.0
# A dashboard must not wait long on a node: the connect and the answer are each bounded.
CONNECT_TIMEOUT = 1.0
REPLY_TIMEOUT = 2.0
CALLS = "show calls as json"


def registrations_command() -> str:
    """sofia's registrations of the phones' profile (``PHONE_PROFILE``, ``internal``)."""
    return f"sofia xmlstatus profile {settings.PHONE_PROFILE} reg"


@dataclass(frozen=True)
class Registration:
    user: str
    realm: str
    address: str  # network_ip:network_port
    transport: str
    user_agent: str
    expires: int  # epoch seconds
    node: str


@dataclass(frozen=True)
class LiveCall:
    uuid: str
    caller_name: str
    caller_number: str
    dialed: str
    state: str  # the a-leg's callstate: RINGING, ACTIVE, HELD ...
    started: int  # epoch seconds
    other_party: str  # who the caller talks to, once bridged
    node: str


@dataclass
class NodeAnswers:
    """What the nodes answered (per node's name) and which did not."""

    rows: list[tuple[str, dict]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    nodes: int = 0


_lock = threading.Lock()
_cache: dict[tuple, tuple[float, list[dict] | None]] = {}
_down: dict[tuple, float] = {}


def clear_cache() -> None:
    """Forget every remembered answer (tests; a node changed)."""
    with _lock:
        _cache.clear()
        _down.clear()


def parse_rows(text: str) -> list[dict] | None:
    """The rows of a ``show … as json`` answer; None if it is not one (``-ERR …``)."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or "row_count" not in document:
        return None
    rows = document.get("rows") or []
    return [row for row in rows if isinstance(row, dict)]


_XML_FIELD = re.compile(r"^\s*<([a-z-]+)>(.*)</\1>\s*$")
_EXPSECS = re.compile(r"expsecs\((-?\d+)\)")
_TRANSPORT = re.compile(r"^[^(]*\(([A-Za-z]+)")


def parse_sofia_registrations(text: str, now: float | None = None) -> list[dict] | None:
    """The ``<registration>`` rows of a ``sofia xmlstatus profile P reg`` answer, each a
    dict of its fields (unescaped) plus ``expires`` (epoch seconds, from ``expsecs`` and
    ``now``); None if it is not one (``Invalid Profile!``, ``-ERR …``).

    Read line by line, as mod_sofia writes it (one field a line), not with an XML
    parser: ``<call-id>`` is written unescaped, so one phone's odd Call-ID must not make
    the whole node's answer unreadable."""
    if not text.lstrip().startswith("<?xml") or "<profile>" not in text:
        return None
    now = time.time() if now is None else now
    rows: list[dict] = []
    row: dict | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "<registration>":
            row = {}
        elif stripped == "</registration>":
            if row is not None:
                seconds = _EXPSECS.search(row.get("status", ""))
                row["expires"] = int(now) + int(seconds[1]) if seconds else 0
                rows.append(row)
            row = None
        elif row is not None and (match := _XML_FIELD.match(line)):
            row[match[1]] = html.unescape(match[2])
    return rows


def _ask(node: FreeswitchNode, command: str, client: CommandClient,
         parse: Callable[[str], list[dict] | None] = parse_rows) -> list[dict] | None:
    where = (node.pk, node.host, node.esl_port)
    key = (*where, command)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        down_since = _down.get(where)
    if down_since is not None and now - down_since < DOWN_SECONDS:
        return None
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        rows = parse(client.api(node.pk, command, timeout=REPLY_TIMEOUT))
    except (ESLError, OSError) as exc:
        log.info("node %s did not answer %r: %s", node.name, command, exc)
        with _lock:
            _down[where] = now
        return None
    with _lock:
        _cache[key] = (now, rows)
        _down.pop(where, None)
    return rows


def ask_nodes(command: str, client: CommandClient | None = None,
              parse: Callable[[str], list[dict] | None] = parse_rows) -> NodeAnswers:
    """Every enabled node's rows for ``command`` (cached; ``parse`` reads an answer), with
    the nodes that did not answer. The manager's live connection when this process has
    one, else a short session per node."""
    client = client or _default_client()
    answers = NodeAnswers()
    for node in FreeswitchNode.objects.filter(enabled=True).order_by("name"):
        answers.nodes += 1
        rows = _ask(node, command, client, parse)
        if rows is None:
            answers.unreachable.append(node.name)
        else:
            answers.rows.extend((node.name, row) for row in rows)
    return answers


def _default_client() -> CommandClient:
    client = get_client()
    return OneShotClient(connect_timeout=CONNECT_TIMEOUT) if isinstance(client, OneShotClient) else client


def _domain_of(value: str) -> str:
    """The domain in ``user@domain[:port]`` or a channel name ``sofia/<profile>/user@domain``."""
    _, at, rest = (value or "").rpartition("@")
    return re.split(r"[:;>]", rest, maxsplit=1)[0].lower() if at else ""


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def registrations(domains: Iterable[str], client: CommandClient | None = None
                  ) -> tuple[list[Registration], NodeAnswers]:
    """The phones registered in ``domains`` (the account's, any case), on every node."""
    wanted = {d.lower() for d in domains}
    answers = ask_nodes(registrations_command(), client, parse_sofia_registrations)
    found = []
    for node, row in answers.rows:
        user, _, host = str(row.get("user", "")).rpartition("@")
        if not user or host.lower() not in wanted:
            continue
        transport = _TRANSPORT.match(row.get("status", ""))
        found.append(Registration(
            user=user, realm=host,
            address=f"{row.get('network-ip', '')}:{row.get('network-port', '')}",
            transport=transport[1].lower() if transport else "", user_agent=row.get("agent", ""),
            expires=row.get("expires", 0), node=node))
    found.sort(key=lambda r: (r.user, r.realm, r.address))
    return found, answers


def _belongs(row: dict, wanted: set[str], numbers: set[str]) -> bool:
    for prefix in ("", "b_"):
        if str(row.get(f"{prefix}accountcode", "")).lower() in wanted:
            return True
        for column in ("presence_id", "name"):
            if _domain_of(str(row.get(f"{prefix}{column}", ""))) in wanted:
                return True
    dialed = _digits(str(row.get("dest", "")))
    return bool(dialed) and dialed in numbers


def calls(domains: Iterable[str], numbers: Iterable[str], client: CommandClient | None = None
          ) -> tuple[list[LiveCall], NodeAnswers]:
    """The calls in progress of the account whose domains and phone numbers (E.164) are
    given, on every node, oldest first."""
    wanted = {d.lower() for d in domains}
    digits = {_digits(n) for n in numbers if _digits(n)}
    answers = ask_nodes(CALLS, client)
    found = [
        LiveCall(
            uuid=row.get("uuid", ""), caller_name=row.get("cid_name", "") or "",
            caller_number=row.get("cid_num", "") or "", dialed=row.get("dest", "") or "",
            state=row.get("callstate", "") or "",
            started=int(row["created_epoch"]) if str(row.get("created_epoch", "")).isdigit() else 0,
            # Who answered, once bridged (the a-leg's callee, as FreeSWITCH learned it).
            other_party=" ".join(filter(None, (row.get("callee_name"), row.get("callee_num")))),
            node=node)
        for node, row in answers.rows if _belongs(row, wanted, digits)
    ]
    found.sort(key=lambda c: (c.started, c.uuid))
    return found, answers

