"""What mod_json_cdr and mod_xml_cdr post, read into one shape (pure: no database).

Every body shape the two modules send (FreeSWITCH's mod_json_cdr.c and mod_xml_cdr.c,
and the captures in shared/fixtures/freeswitch/cdr):

* mod_json_cdr ``encode=false``: the JSON document itself, whatever the Content-Type
  (``disable-100-continue=true`` replaces the module's own header list, so raw JSON then
  arrives labelled ``application/x-www-form-urlencoded``);
  ``encode=true``: ``cdr=`` + the URL-encoded JSON; ``encode=base64``: ``cdr=`` + base64.
  With ``encode-values=true`` every channel variable's value is URL-encoded inside it.
* mod_xml_cdr ``encode=true``: ``cdr=`` + URL-encoded XML; ``false``: ``cdr=`` + the raw
  XML; ``base64``: ``cdr=`` + base64; ``textxml``: the XML itself. The variables' values
  are always URL-encoded inside the XML.

The leg's own uuid comes from the document (``variables/uuid``), never from the query
string: the ``a_`` prefix is only a file-name convention of the modules.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from lxml import etree

MAX_BODY_BYTES = 4 * 1024 * 1024
# The public context is where carrier calls arrive (fsconf.sections.dialplan).
PUBLIC_CONTEXT = "public"
GATEWAY_CHANNEL = re.compile(r"^sofia/gateway/([^/]+)/")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class BadRecord(ValueError):
    """The body is not a call record we can read; the reason says why."""


class Variables(Mapping[str, str]):
    """Channel variables as posted, each decoded when first read: a record carries about
    200 and a call record reads about 25, and decoding them all was most of the parsing
    time of an encoded post (docs/benchmarks.md)."""

    __slots__ = ("_decode", "_decoded", "_raw")

    def __init__(self, raw: Mapping[str, Any], decode: Callable[[Any], str]) -> None:
        self._raw = raw
        self._decode = decode
        self._decoded: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        try:
            return self._decoded[name]
        except KeyError:
            value = self._decoded[name] = self._decode(self._raw[name])
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True)
class Profile:
    """One caller profile of the call flow (a transfer adds one)."""

    context: str = ""
    destination_number: str = ""
    caller_id_number: str = ""
    caller_id_name: str = ""


@dataclass(frozen=True)
class ParsedRecord:
    """One leg, as posted: its variables and its call flow, oldest profile first."""

    format: str  # "json" or "xml"
    variables: Mapping[str, str]
    profiles: tuple[Profile, ...]
    node: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def leg_uuid(self) -> uuid.UUID:
        return _uuid(self.variables.get("uuid", ""), "variables/uuid")


def parse(body: bytes, content_type: str = "") -> ParsedRecord:
    """Read a posted body of either module; BadRecord when it is neither."""
    if not body:
        raise BadRecord("empty body")
    if len(body) > MAX_BODY_BYTES:
        raise BadRecord(f"body larger than {MAX_BODY_BYTES} bytes")
    document = _unwrap(body, content_type.split(";")[0].strip().lower())
    head = document.lstrip()[:1]
    if head == b"{":
        return _parse_json(document)
    if head == b"<":
        return _parse_xml(document)
    raise BadRecord("neither a JSON nor an XML document")


def _unwrap(body: bytes, content_type: str) -> bytes:
    """The document inside a ``cdr=`` form field, or the body itself."""
    if not body.startswith(b"cdr="):
        return body
    value = body[4:]
    if content_type == "application/x-www-form-base64-encoded":
        try:
            return base64.b64decode(value.strip(), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise BadRecord(f"cdr field is not base64: {exc}") from exc
    if content_type == "application/x-www-form-urlencoded":
        # mod_*_cdr encode with switch_url_encode: a space is %20 and a literal + is %2B,
        # so + is not decoded as a space.
        return unquote_to_bytes(value)
    # application/x-www-form-plaintext (mod_xml_cdr encode=false): the raw document.
    return value


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _parse_json(document: bytes) -> ParsedRecord:
    try:
        data = json.loads(document)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRecord(f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("variables"), dict):
        raise BadRecord("JSON without a variables object")
    raw_variables = data["variables"]
    encoded = _values_encoded(_text(raw_variables.get("start_stamp")))
    variables = Variables(raw_variables, _decoded_text if encoded else _text)
    flow = data.get("callflow") or []
    if isinstance(flow, dict):
        flow = [flow]
    profiles = []
    for step in flow if isinstance(flow, list) else []:
        profile = step.get("caller_profile") if isinstance(step, dict) else None
        if isinstance(profile, dict):
            profiles.append(Profile(
                context=_text(profile.get("context")),
                destination_number=_text(profile.get("destination_number")),
                caller_id_number=_text(profile.get("caller_id_number")),
                caller_id_name=_text(profile.get("caller_id_name")),
            ))
    # FreeSWITCH lists the newest profile first.
    record = ParsedRecord("json", variables, tuple(reversed(profiles)), _text(data.get("switchname")))
    record.leg_uuid  # noqa: B018  (refuses a record without a readable uuid here)
    return record


def _values_encoded(start_stamp: str) -> bool:
    """``encode-values=true`` URL-encodes every value. start_stamp is always present
    and always holds a space ("2026-11-22 03:00:16"), which encoding turns into %20."""
    return "%20" in start_stamp and " " not in start_stamp


def _decoded_text(value: object) -> str:
    return unquote(_text(value))


def _parse_xml(document: bytes) -> ParsedRecord:
    try:
        root = etree.fromstring(document, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadRecord(f"invalid XML: {exc}") from exc
    if root.tag != "cdr":
        raise BadRecord(f"XML root is <{root.tag}>, not <cdr>")
    holder = root.find("variables")
    if holder is None:
        raise BadRecord("XML without <variables>")
    # mod_xml_cdr URL-encodes every variable value (switch_ivr_set_xml_chan_vars).
    variables = Variables({child.tag: child.text or "" for child in holder if isinstance(child.tag, str)},
                          unquote)
    profiles = []
    for step in root.findall("callflow"):
        profile = step.find("caller_profile")
        if profile is not None:
            profiles.append(Profile(
                context=profile.findtext("context") or "",
                destination_number=profile.findtext("destination_number") or "",
                caller_id_number=profile.findtext("caller_id_number") or "",
                caller_id_name=profile.findtext("caller_id_name") or "",
            ))
    record = ParsedRecord("xml", variables, tuple(reversed(profiles)), root.get("switchname") or "")
    record.leg_uuid  # noqa: B018
    return record


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise BadRecord(f"{what} is not a uuid: {value[:60]!r}") from exc


# ----------------------------------------------------------------------------------------
# From the variables to the columns of a call record.


@dataclass(frozen=True)
class Fields:
    """The columns of one call record, before attribution to an account."""

    leg_uuid: uuid.UUID
    leg: str  # "a": the channel that came in (phone, carrier); "b": one we originated, or a pickup
    call_uuid: uuid.UUID  # the call's a-leg (its own uuid for an a-leg)
    other_leg_uuid: uuid.UUID | None
    start_at: datetime
    answer_at: datetime | None
    end_at: datetime | None
    duration: int
    billsec: int
    hangup_cause: str
    q850: int | None
    sip_status: int | None
    caller_number: str
    caller_name: str
    callee_number: str
    extension: str
    did: str
    gateway: str
    destination_kind: str
    app: str
    account_hint: str  # switchboard_account: the account id our dialplan set
    domain_hint: str  # the tenant's SIP domain, for legs without switchboard_account
    node: str
    format: str
    public_inbound: bool
    outbound_number: str


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(microseconds: str) -> datetime | None:
    value = _int(microseconds)
    if not value:
        return None
    try:
        return datetime.fromtimestamp(value / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _optional_uuid(*values: str) -> uuid.UUID | None:
    for value in values:
        if value:
            try:
                return uuid.UUID(value)
            except ValueError:
                continue
    return None


def _short(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text.
    return value.replace("\x00", "")[:limit]


def fields_of(record: ParsedRecord) -> Fields:
    """The record's columns; BadRecord when it has no start time (the partition key)."""
    v = record.variables
    leg_uuid = record.leg_uuid
    # A leg we originated (bridge, originate) names the leg that made it.
    originator = _optional_uuid(v.get("originator", ""), v.get("originating_leg_uuid", ""))
    outbound = v.get("direction") == "outbound"
    kind = v.get("switchboard_dest_kind", "")
    # A queue agent's leg: mod_callcenter originates it on its own (no originator) and
    # bridges it to the waiting caller, whose uuid it names (seen on the real switch,
    # tests/freeswitch/test_cdr_shapes.py); it is that call's answering leg.
    if outbound and originator is None:
        originator = _optional_uuid(v.get("cc_member_session_uuid", ""))
        if originator is not None:
            kind = kind or "queue"
    is_b_leg = outbound and originator is not None
    bridged = _optional_uuid(v.get("bridge_uuid", ""), v.get("last_bridge_to", ""), v.get("signal_bond", ""))
    other = originator if is_b_leg else bridged
    # A phone that picked up a ringing call (directed or group pickup: ``picked_up_uuid``
    # names the pickup leg it took over) came in as a call of its own and was bridged to
    # the caller: it is the answering leg of the caller's call.
    picked_up = not is_b_leg and bool(v.get("picked_up_uuid", "")) and bridged is not None
    if picked_up:
        kind = "pickup"
    start_at = _when(v.get("start_uepoch", "")) or _when(v.get("profile_start_uepoch", ""))
    if start_at is None:
        raise BadRecord("no start_uepoch: the record has no start time")
    first = record.profiles[0] if record.profiles else Profile()
    public_inbound = first.context == PUBLIC_CONTEXT
    gateway_match = GATEWAY_CHANNEL.match(v.get("channel_name", ""))
    gateway = v.get("sip_gateway_name", "") or (gateway_match.group(1) if gateway_match else "")
    # The extension the leg belongs to: the phone that called (or picked up), or the one
    # we rang.
    extension = v.get("user_name", "") if not is_b_leg else v.get("dialed_user", "")
    did = v.get("switchboard_did", "") or (first.destination_number if public_inbound else "")
    # A b-leg's call is the first leg of the call, which our dialplan names on it
    # (switchboard_call, exported to every leg bridged from it): its originator is not
    # that leg when a transfer by REFER sent the leg that originated it through the
    # dialplan (a caller's blind transfer of the party it called; the real switch,
    # tests/freeswitch/test_cdr_more_shapes.py). Else the originator.
    call_uuid = ((_optional_uuid(v.get("switchboard_call", "")) or originator) if is_b_leg
                 else bridged if picked_up and bridged else leg_uuid)
    return Fields(
        leg_uuid=leg_uuid,
        leg="b" if is_b_leg or picked_up else "a",
        call_uuid=call_uuid,
        other_leg_uuid=other,
        start_at=start_at,
        answer_at=_when(v.get("answer_uepoch", "")),
        end_at=_when(v.get("end_uepoch", "")),
        duration=max(_int(v.get("duration", "")) or 0, 0),
        billsec=max(_int(v.get("billsec", "")) or 0, 0),
        hangup_cause=_short(v.get("hangup_cause", ""), 50),
        q850=_int(v.get("hangup_cause_q850", "")),
        sip_status=_int(v.get("sip_term_status", "")),
        caller_number=_short(first.caller_id_number or v.get("caller_id_number", ""), 64),
        caller_name=_short(first.caller_id_name or v.get("caller_id_name", ""), 100),
        callee_number=_short(first.destination_number or v.get("destination_number", ""), 64),
        extension=_short(extension, 32),
        did=_short(did, 32),
        gateway=_short(gateway, 64),
        destination_kind=_short(kind, 20),
        app=_short(v.get("switchboard_app", ""), 20),
        account_hint=v.get("switchboard_account", ""),
        domain_hint=_short(v.get("domain_name", "") or v.get("user_context", "")
                           or v.get("dialed_domain", ""), 255),
        node=_short(record.node, 100),
        format=record.format,
        public_inbound=public_inbound,
        outbound_number=_short(v.get("outbound_number", ""), 32),
    )
