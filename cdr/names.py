"""Names for a page of call records: the account (a reseller's history), the extension
(number and name), the DID, the trunk and gateway, and the destination ("Ring group
Sales"), where a record stores numbers and ids only.

Resolved per page, never per row: a fixed number of queries whatever the page holds
(the accounts on the page, their names and whether their schemas exist; the DIDs; the trunks with
their gateways; then one query per PBX kind on the page -- extensions, ring groups,
auto attendants, queues, conference rooms, voicemail boxes -- each one ``UNION ALL``
over the tenant schemas of the page's accounts). Names are today's: a renamed ring group
shows its new name. An object that no longer exists shows what the record stored (its
number) with "(deleted)".

The destination is found from what the record holds: an inbound leg's DID whose route
still goes to the recorded kind names its object (``kind:ref``); an internal a-leg
dialed the object's own number (``callee_number``). Otherwise only the kind is shown.

A trunk is named only to the account that owns it or one above that owner (as in the
reports, cdr.reports); to anyone else it is "Provider's trunk"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from cdr.models import CallRecord
from cdr.store import GATEWAY_NAME
from pbx.models import CallQueue, ConferenceRoom, Extension, Ivr, RingGroup, VoicemailBox
from tenants.models import Account, PhoneNumber

DELETED = "(deleted)"
PROVIDERS_TRUNK = "Provider's trunk"

# What a record's destination_kind is called (fsconf.destinations.call_record_kind).
KIND_LABELS = {
    "extension": "Extension", "ring_group": "Ring group", "ivr": "Auto attendant", "queue": "Call queue",
    "conference": "Conference room", "conference_hub": "Conference hub", "voicemail": "Voicemail",
    "check_voicemail": "Check voicemail", "directory": "Company directory", "outbound": "Outside call",
    "pickup": "Call pickup", "hangup": "Hang up", "schedule": "Schedule", "external": "External number",
}
# The kinds that name a row of the tenant's schema, and its table.
KIND_MODELS = {
    "extension": Extension, "ring_group": RingGroup, "ivr": Ivr, "queue": CallQueue,
    "conference": ConferenceRoom, "voicemail": VoicemailBox,
}


@dataclass(frozen=True)
class Labels:
    account: str = ""
    extension: str = ""
    did: str = ""
    trunk: str = ""
    destination: str = ""


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def label(records: Iterable[CallRecord], viewer: Account) -> list[CallRecord]:
    """Set ``record.labels`` (:class:`Labels`) on every record, as ``viewer`` may see
    them; the records, as a list."""
    records = list(records)
    if not records:
        return records
    accounts, schemas = _accounts({record.account_id for record in records if record.account_id is not None})
    dids = _dids(records)
    trunks = _trunks(records)
    # (account, kind) -> numbers and ids to look up.
    wanted: dict[str, dict[int, tuple[set[str], set[int]]]] = defaultdict(
        lambda: defaultdict(lambda: (set(), set())))
    plans = []
    for record in records:
        plan = _destination_plan(record, dids)
        plans.append(plan)
        if record.extension and record.account_id in schemas:
            wanted["extension"][record.account_id][0].add(record.extension)
        if plan is not None and record.account_id in schemas:
            kind, by, key = plan
            numbers, ids = wanted[kind][record.account_id]
            (numbers if by == "number" else ids).add(key)
    found = {kind: _objects(KIND_MODELS[kind], per_account, schemas) for kind, per_account in wanted.items()}
    for record, plan in zip(records, plans, strict=True):
        record.labels = Labels(
            account=accounts.get(record.account_id, ""),
            extension=_extension_label(record, found.get("extension", {}), schemas),
            did=_did_label(record, dids),
            trunk=_trunk_label(record, trunks, viewer),
            destination=_destination_label(record, plan, found, schemas),
        )
    return records


def _accounts(account_ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """The page's accounts' names, and the schemas of those whose tenant schema exists
    (a purged account's is gone)."""
    if not account_ids:
        return {}, {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT a.id, a.name, n.nspname FROM tenants_account a "
                       "LEFT JOIN pg_namespace n ON n.nspname = a.schema_name WHERE a.id = ANY(%s)",
                       [list(account_ids)])
        rows = cursor.fetchall()
    return ({pk: name for pk, name, _schema in rows},
            {pk: schema for pk, _name, schema in rows if schema is not None})


def _dids(records: list[CallRecord]) -> dict[str, tuple[int | None, str]]:
    """DID -> (its account now, its route now)."""
    numbers = {record.did for record in records if record.did}
    if not numbers:
        return {}
    return {e164: (account_id, route) for e164, account_id, route in
            PhoneNumber.objects.filter(e164__in=numbers).values_list("e164", "account_id", "route")}


def _trunks(records: list[CallRecord]) -> dict[int, tuple[str, str, dict[int, str]]]:
    """Trunk id -> (name, owner's path, {gateway id: "server:port"}) for the trunks and
    gateways on the page."""
    trunk_ids = {record.trunk_id for record in records if record.trunk_id is not None}
    if not trunk_ids:
        return {}
    gateway_ids = [int(match.group(1)) for record in records
                   if record.trunk_id is not None and (match := GATEWAY_NAME.match(record.gateway))]
    found: dict[int, tuple[str, str, dict[int, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id, t.name, owner.path, g.id, g.server, g.port
               FROM carriers_trunk t JOIN tenants_account owner ON owner.id = t.account_id
               LEFT JOIN carriers_gateway g ON g.trunk_id = t.id AND g.id = ANY(%s)
               WHERE t.id = ANY(%s)""", [gateway_ids, list(trunk_ids)])
        for trunk_id, name, path, gateway_id, server, port in cursor.fetchall():
            entry = found.setdefault(trunk_id, (name, path, {}))
            if gateway_id is not None:
                entry[2][gateway_id] = f"{server}:{port}"
    return found


def _destination_plan(record: CallRecord,
                      dids: dict[str, tuple[int | None, str]]) -> tuple[str, str, object] | None:
    """How to find the record's destination: (kind, "id" or "number", key), or None."""
    kind = record.destination_kind
    if kind not in KIND_MODELS or record.account_id is None:
        return None
    if record.did:
        account_id, route = dids.get(record.did, (None, ""))
        routed_kind, _, ref = route.partition(":")
        if account_id == record.account_id and routed_kind == kind and ref.isdigit():
            return kind, "id", int(ref)
        return None
    if record.leg == "a" and record.direction == "internal" and record.callee_number.isdigit():
        return kind, "number", record.callee_number
    return None


def _objects(model, per_account: dict[int, tuple[set[str], set[int]]],
             schemas: dict[int, str]) -> dict[tuple[int, str, object], tuple[str, str]]:
    """(account, "number"/"id", key) -> (number, name), one UNION ALL over the schemas."""
    parts, params = [], []
    table = connection.ops.quote_name(model._meta.db_table)
    for account_id, (numbers, ids) in per_account.items():
        schema = connection.ops.quote_name(schemas[account_id])
        parts.append(f"SELECT %s, id, number, name FROM {schema}.{table} "
                     f"WHERE number = ANY(%s) OR id = ANY(%s)")
        params += [account_id, sorted(numbers), sorted(ids)]
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for account_id, pk, number, name in cursor.fetchall():
            found[account_id, "id", pk] = (number or "", name)
            if number:
                found[account_id, "number", number] = (number, name)
    return found


def _extension_label(record: CallRecord, found: dict, schemas: dict[int, str]) -> str:
    if not record.extension:
        return ""
    if record.account_id not in schemas:
        return record.extension
    hit = found.get((record.account_id, "number", record.extension))
    return f"{record.extension} {hit[1]}" if hit else f"{record.extension} {DELETED}"


def _did_label(record: CallRecord, dids: dict[str, tuple[int | None, str]]) -> str:
    if not record.did:
        return ""
    account_id, _route = dids.get(record.did, (None, ""))
    return record.did if account_id == record.account_id else f"{record.did} {DELETED}"


def _trunk_label(record: CallRecord, trunks: dict, viewer: Account) -> str:
    if record.trunk_id is None:
        return ""
    entry = trunks.get(record.trunk_id)
    if entry is None:
        return f"Trunk {DELETED}"
    name, owner_path, gateways = entry
    if not owner_path.startswith(viewer.path):
        return PROVIDERS_TRUNK
    match = GATEWAY_NAME.match(record.gateway)
    if match is None:
        return name
    gateway = gateways.get(int(match.group(1)))
    return f"{name} · {gateway}" if gateway else f"{name} · {record.gateway} {DELETED}"


def _destination_label(record: CallRecord, plan, found: dict, schemas: dict[int, str]) -> str:
    kind = record.destination_kind
    if not kind:
        return ""
    if plan is None or record.account_id not in schemas:
        return kind_label(kind)
    kind, by, key = plan
    hit = found.get(kind, {}).get((record.account_id, by, key))
    if hit is None:
        return f"{kind_label(kind)} {key if by == 'number' else ''} {DELETED}".replace("  ", " ")
    number, name = hit
    if kind == "extension":
        return f"{kind_label(kind)} {number} {name}"
    return f"{kind_label(kind)} {name}"
