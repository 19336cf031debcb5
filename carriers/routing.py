"""Which trunks carry an outbound call, in what order, with which caller ID.

An account uses its own trunks when its trunk source is "Local", otherwise those of the
nearest account above it that is Local (the master's are the platform trunks); the
tenant lookup (tenants.tenancy) finds that account in the same query. Within
that set, trunks whose rules match the number are tried by ``weight_cost`` (lower first),
each trunk's gateways in their order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from carriers.models import NumberFormat, Trunk
from carriers.numbering import PREMIUM, CallClass, DialedNumber, UncallableNumber, read_dialed
from common import prepared
from tenants.models import Account

# Hangup causes FreeSWITCH knows, for the cases a caller should be told apart.
BARRED = "OUTGOING_CALL_BARRED"
NO_ROUTE = "NO_ROUTE_DESTINATION"
INVALID_NUMBER = "INVALID_NUMBER_FORMAT"
# What reaches a carrier is only what we put there. By default FreeSWITCH copies every
# ``sip_h_*`` variable of the calling leg -- every X-, P- and Diversion header the phone
# (or an inbound carrier) sent -- and its multipart bodies onto the outbound leg
# (mod_sofia.c, sofia_outgoing_channel, reading these two variables on the calling leg).
# A phone's forged Diversion would have a carrier authorise or bill a call as another
# tenant's number. These are set on the calling leg before a bridge that may reach a
# carrier; our own headers (caller ID, Diversion, P-Asserted-Identity) go on the legs.
CARRIER_LEG_VARIABLES = {"sip_copy_custom_headers": "false", "sip_copy_multipart": "false"}
CARRIER_ENDPOINT = "sofia/gateway/"
# Characters that end or split a bridge string's per-leg variable list.
_BRIDGE_UNSAFE = re.compile(r"[\[\]{}^,|'\"\\]")


@dataclass(frozen=True)
class GatewayView:
    name: str
    prefix: str
    progress_timeout: int


@dataclass(frozen=True)
class TrunkView:
    name: str
    emergency: bool
    rules: tuple[str, ...]
    caller_id_regex: str
    caller_id_prefix: str
    caller_id_value: str
    gateways: tuple[GatewayView, ...]
    send_asserted_identity: bool = False
    number_format: str = NumberFormat.E164_DIGITS
    national_country: str = ""

    def number_for(self, e164: str) -> str | None:
        """What this trunk sends for ``e164`` (before the gateway's prefix): the first
        group of the first matching rule, as captured; with a rule without a group, or
        without rules, the number in the trunk's format. None when no rule matches."""
        if not self.rules:
            return self.formatted(e164)
        for rule in self.rules:
            found = re.search(rule, e164)
            if found:
                return found.group(1) if found.re.groups else self.formatted(e164)
        return None

    def formatted(self, e164: str) -> str:
        """``e164`` in the trunk's number format: digits only (the default, what carriers
        take most widely), with the ``+``, or as dialed inside ``national_country``: its
        own numbers with the national prefix, others after its international prefix."""
        if self.number_format == NumberFormat.E164:
            return e164
        if self.number_format == NumberFormat.NATIONAL and self.national_country:
            dialed = phonenumbers.format_out_of_country_calling_number(
                phonenumbers.parse(e164), self.national_country)
            return re.sub(r"[^0-9*#]", "", dialed)
        return e164.lstrip("+")

    def caller_id_for(self, number: str, *, emergency: bool) -> str:
        if self.caller_id_value and not emergency:
            # A fixed caller ID must not hide an emergency caller's callback number.
            return self.caller_id_value
        if self.caller_id_regex:
            found = re.search(self.caller_id_regex, number)
            if found:
                kept = "".join(g for g in found.groups() if g) if found.re.groups else found.group(0)
                return self.caller_id_prefix + kept
        return number


# On the path of every outbound call: SQL, not built by the ORM each time.
_TRUNKS_SQL = """
    SELECT t.*, ARRAY(
      SELECT json_build_object('pk', g.id, 'prefix', g.prefix, 'progress_timeout', g.progress_timeout)
      FROM carriers_gateway g WHERE g.trunk_id = t.id AND g.enabled ORDER BY g.position, g.id
    ) AS gateway_rows
    FROM carriers_trunk t WHERE t.account_id = %s AND t.enabled
    ORDER BY t.weight_cost, t.name
"""


def trunks_of(owner_id: int | None) -> list[TrunkView]:
    """The enabled trunks of one account with their enabled gateways, in one query."""
    if owner_id is None:
        return []
    return [
        TrunkView(
            name=row.name, emergency=row.emergency, rules=tuple(row.rules),
            caller_id_regex=row.caller_id_regex, caller_id_prefix=row.caller_id_prefix,
            caller_id_value=row.caller_id_value, send_asserted_identity=row.send_asserted_identity,
            number_format=row.number_format, national_country=row.national_country,
            gateways=tuple(GatewayView(f"gw{g['pk']}", g["prefix"], g["progress_timeout"])
                           for g in row.gateway_rows),
        )
        for row in prepared.instances(Trunk, _TRUNKS_SQL, [owner_id])
    ]


@dataclass(frozen=True)
class Caller:
    """What the dialplan knows of the calling extension (the directory set these
    channel variables when it authenticated)."""
    toll_allow: frozenset[str]
    caller_id_number: str
    caller_id_name: str
    emergency_caller_id_number: str = ""


@dataclass(frozen=True)
class Leg:
    gateway: str
    number: str
    caller_id_number: str
    caller_id_name: str
    progress_timeout: int
    asserted_identity: bool = False  # the trunk wants P-Asserted-Identity

    def bridge_string(self) -> str:
        variables = [
            f"leg_progress_timeout={self.progress_timeout}",
            f"origination_caller_id_number={_bridge_safe(self.caller_id_number)}",
            f"origination_caller_id_name={_bridge_safe(self.caller_id_name)}",
        ]
        if self.asserted_identity:
            # sofia then sends P-Asserted-Identity with the caller ID above (sofia_glue.c
            # reads the leg's sip_cid_type; a gateway leg never takes the caller's).
            variables.append("sip_cid_type=pid")
        return f"[{','.join(variables)}]{CARRIER_ENDPOINT}{self.gateway}/{self.number}"


class Refusal(StrEnum):
    """Why a call cannot go out, as the route explainer names it (its rule)."""
    INVALID_NUMBER = "invalid_number"
    INTERNATIONAL_OFF = "barred_by_account"  # the account's international switch
    NOT_PERMITTED = "barred_by_permission"  # the calling extension's call permission
    PREMIUM_OFF = "premium_barred_by_account"  # the account's premium-rate switch
    NO_TRUNK = "no_trunk"  # the account has no enabled trunk to call out on
    NO_MATCHING_TRUNK = "no_matching_trunk"  # no trunk's rules match the number
    NO_GATEWAY = "no_gateway"  # the trunks that match have no enabled gateway


@dataclass(frozen=True)
class OutboundRoute:
    dialed: DialedNumber | None
    legs: tuple[Leg, ...] = ()
    refused: str = ""  # the hangup cause when the call may not or cannot go out
    refusal: Refusal | None = None
    reason: str = ""  # why, for people (the explainer)

    @property
    def emergency(self) -> bool:
        return self.dialed is not None and self.dialed.call_class is CallClass.EMERGENCY


def route_outbound(
    account: Account, trunks: list[TrunkView], dialed: str, caller: Caller
) -> OutboundRoute:
    try:
        number = read_dialed(dialed, account.country, account.outbound_caller_id)
    except UncallableNumber as exc:
        return OutboundRoute(None, refused=INVALID_NUMBER, refusal=Refusal.INVALID_NUMBER,
                             reason=str(exc).rstrip("."))
    emergency = number.call_class is CallClass.EMERGENCY
    if not emergency:
        barred = _barred(account, caller, number)
        if barred is not None:
            return OutboundRoute(number, refused=BARRED, refusal=barred[0], reason=barred[1])
    if not trunks:
        return OutboundRoute(number, refused=NO_ROUTE, refusal=Refusal.NO_TRUNK,
                             reason="there is no enabled trunk to call out on")
    if emergency:
        chosen = [t for t in trunks if t.emergency] or trunks
        candidates = [(t, number.number) for t in chosen]
        caller_id = (caller.emergency_caller_id_number or account.emergency_caller_id
                     or caller.caller_id_number)
    else:
        candidates = [(t, sent) for t in trunks if (sent := t.number_for(number.number)) is not None]
        caller_id = caller.caller_id_number
    legs = tuple(
        Leg(gateway.name, gateway.prefix + sent, trunk.caller_id_for(caller_id, emergency=emergency),
            caller.caller_id_name, gateway.progress_timeout, asserted_identity=trunk.send_asserted_identity)
        for trunk, sent in candidates for gateway in trunk.gateways
    )
    if legs:
        return OutboundRoute(number, legs)
    if not candidates:
        rules = "; ".join(f"{t.name}: {' '.join(t.rules)}" for t in trunks)
        return OutboundRoute(number, refused=NO_ROUTE, refusal=Refusal.NO_MATCHING_TRUNK,
                             reason=f"no trunk's rules match {number.number} ({rules})")
    names = ", ".join(t.name for t, _sent in candidates)
    return OutboundRoute(number, refused=NO_ROUTE, refusal=Refusal.NO_GATEWAY,
                         reason=f"the trunks that would carry it ({names}) have no enabled gateway")


_CLASS_ORDER = (CallClass.LOCAL, CallClass.DOMESTIC, CallClass.INTERNATIONAL)


def _barred(account: Account, caller: Caller, number: DialedNumber) -> tuple[Refusal, str] | None:
    """Why this caller may not call ``number`` (never an emergency number), or None."""
    call_class = number.call_class
    if call_class is CallClass.INTERNATIONAL and not account.allow_international:
        return (Refusal.INTERNATIONAL_OFF,
                f"{account.name} may not call abroad (its international calling is off; "
                f"{number.number} is in {number.region})")
    if number.premium and not account.allow_premium_rate:
        return (Refusal.PREMIUM_OFF,
                f"{account.name} may not call premium-rate numbers ({number.number})")
    if not _allowed(account, caller, call_class) or not number.needs <= caller.toll_allow:
        allowed = [c.value for c in _CLASS_ORDER if c.value in caller.toll_allow]
        may = " and ".join(allowed) + " calls only" if allowed else "internal calls only"
        if allowed and PREMIUM in caller.toll_allow:
            may += ", premium-rate included"
        return (Refusal.NOT_PERMITTED,
                f"{_with_article(number.describe())} call; the caller's call permission allows {may}")
    return None


def why_barred(account: Account, caller: Caller, number: DialedNumber) -> str:
    """Why ``caller`` may not call ``number`` in ``account`` ("" when it may): what the
    dialplan checks, for the actions that save a number to be called later (forwards)."""
    barred = _barred(account, caller, number)
    return barred[1] if barred is not None else ""


def _with_article(words: str) -> str:
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"


def _allowed(account: Account, caller: Caller, call_class: CallClass) -> bool:
    if call_class is CallClass.INTERNATIONAL and not account.allow_international:
        return False
    return call_class.value in caller.toll_allow


def _bridge_safe(value: str) -> str:
    return _BRIDGE_UNSAFE.sub("", value)
