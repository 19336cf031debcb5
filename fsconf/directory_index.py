"""The public directory index (fsconf.models.DirectoryEntry): built from a tenant's PBX
tables, read by the directory section without entering the tenant's schema.

Every PBX write updates its account's rows, in SQL on the server, inside its own
transaction (fsconf.receivers): they appear, change and disappear exactly when the write
commits, and a rolled-back write leaves them as they were. The write's change signal says
what it touched (pbx.signals.IndexScope), and ``update`` rebuilds only that: the rows of
the extensions it names (each with its devices, box and follow-me), the standalone boxes,
the call blocks, or nothing (a ring group, a schedule); ``rebuild`` (the default of a send
that names nothing, and the backfill command) makes the whole account's rows again. Both
produce the same rows from the same tables (one statement, filtered or not; a test
compares them after every kind of write). What each costs per write is in
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_exists

from common import prepared
from fsconf.models import DirectoryEntry, TenantFacts
from fsnodes.models import AuthBlock
from pbx.models import Extension
from pbx.routing import EXTENSION_EXTRAS
from pbx.signals import IndexScope
from tenants.models import Account

TABLE = DirectoryEntry._meta.db_table
# pg_advisory_xact_lock's first key: this index's own lock space.
_LOCK_SPACE = 0x46534458  # "FSDX"

# Every directory user of the schema with what its document needs, ranked as the
# tenant-schema lookup ranks them (fsconf.sections.directory._SCHEMA_USER_SQL): enabled
# devices of enabled extensions (0), enabled extensions by number (1), standalone
# voicemail boxes (2); an extension's box comes with its device and number rows.
# The filters restrict it to some extensions' rows ({extensions} on e.id, {siblings} on
# s.extension_id: every row of an extension is computed from its own and its devices'
# rows only) and keep or drop the standalone boxes ({boxes}); empty, it is every row.
_ENTRIES_SQL = """
    WITH siblings AS (
      SELECT s.extension_id, array_agg(s.username ORDER BY s.username) AS usernames
      FROM {schema}.pbx_device s WHERE s.enabled {siblings} GROUP BY s.extension_id
    ), names AS (
      SELECT dv.username AS user_id, 0 AS kind, dv.secret_encrypted AS device_secret,
             e.id AS extension_id, xb.id AS box_id
      FROM {schema}.pbx_device dv JOIN {schema}.pbx_extension e ON e.id = dv.extension_id
      LEFT JOIN {schema}.pbx_voicemailbox xb ON xb.extension_id = e.id
      WHERE dv.enabled AND e.enabled {extensions}
      UNION ALL
      SELECT e.number, 1, NULL, e.id, xb.id
      FROM {schema}.pbx_extension e LEFT JOIN {schema}.pbx_voicemailbox xb ON xb.extension_id = e.id
      WHERE e.enabled {extensions}
      UNION ALL
      SELECT b.number, 2, NULL, NULL, b.id FROM {schema}.pbx_voicemailbox b
      WHERE b.extension_id IS NULL {boxes}
    )
    INSERT INTO {table} (
      account_id, user_id, kind, device_secret, extension_id, number, name,
      outbound_caller_id_name, outbound_caller_id_number, language, timezone, ring_seconds,
      voicemail_enabled, call_permission, allow_premium_rate, call_groups, emergency_callback_number,
      siblings,
      vm_number, vm_pin, vm_email, vm_sms_email, vm_delete_after_email, vm_skip_instructions,
      vm_enabled, route_facts)
    SELECT %(account)s, n.user_id, n.kind, n.device_secret, e.id, e.number, e.name,
           e.outbound_caller_id_name, e.outbound_caller_id_number, e.language, e.timezone,
           e.ring_seconds, e.voicemail_enabled, e.call_permission, e.allow_premium_rate, e.call_groups,
           e.emergency_callback_number, COALESCE(sib.usernames, '{{}}'),
           b.number, b.pin, b.email, b.sms_email, b.delete_after_email, b.skip_instructions,
           b.enabled,
           CASE WHEN n.kind = 1 THEN to_jsonb(e) || jsonb_build_object({route_extras}) END
    FROM names n
    LEFT JOIN {schema}.pbx_extension e ON e.id = n.extension_id
    LEFT JOIN siblings sib ON sib.extension_id = e.id
    LEFT JOIN {schema}.pbx_voicemailbox b ON b.id = n.box_id
    LEFT JOIN {schema}.pbx_voicemailbox rb ON rb.extension_id = e.id AND rb.enabled AND n.kind = 1
""".replace("{route_extras}", ", ".join(f"'{name}', {expression.replace('{box}', 'rb')}"
                                        for name, expression in EXTENSION_EXTRAS.items()))
# The tenant's call blocks, as pbx.routing reads them (by pattern).
_FACTS_SQL = """
    INSERT INTO {facts} (account_id, call_blocks)
    SELECT %s, COALESCE(jsonb_agg(jsonb_build_object(
             'id', c.id, 'pattern', c.pattern, 'anonymous', c.anonymous, 'direction', c.direction,
             'comment', c.comment, 'extension_id', c.extension_id) ORDER BY c.pattern, c.id), '[]')
    FROM {schema}.pbx_callblock c
"""
_FACTS_TABLE = TenantFacts._meta.db_table
_LOOKUP_SQL = f"SELECT * FROM {TABLE} WHERE account_id = %s AND user_id = %s ORDER BY kind LIMIT 1"
_GROUP_SQL = (f"SELECT user_id FROM {TABLE} WHERE account_id = %s AND kind = {DirectoryEntry.Kind.EXTENSION} "
              "AND call_groups @> ARRAY[%s] ORDER BY user_id")


_NONE = "AND false"


def rebuild(account: Account) -> None:
    """Make ``account``'s rows equal to its PBX tables as this transaction sees them."""
    update(account, IndexScope.WHOLE)


def update(account: Account, scope: IndexScope) -> None:
    """Make the rows ``scope`` names (pbx.signals.IndexScope) equal to ``account``'s PBX
    tables as this transaction sees them; the other rows stay as they are (nothing else
    changed). An empty scope runs no SQL at all."""
    if scope.empty or account.schema_name == get_public_schema_name():
        return  # nothing changed; or the master: no PBX tables, no SIP users
    schema = connection.ops.quote_name(account.schema_name)
    params: dict[str, object] = {"account": account.pk}
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Two writers of one account take turns: the second deletes and reads only after
        # the first committed, so it sees the first's rows and data (READ COMMITTED).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, account.pk & 0x7FFFFFFF])
        if scope.whole:
            cursor.execute(f"DELETE FROM {TABLE} WHERE account_id = %s", [account.pk])
            filters = {"extensions": "", "siblings": "", "boxes": ""}
        else:
            filters = {"extensions": _NONE, "siblings": _NONE, "boxes": _NONE}
            if scope.extensions:
                # Every row of these extensions (kinds 0 and 1; a standalone box has none),
                # also those of an extension deleted or disabled since, or renumbered.
                params["extensions"] = sorted(scope.extensions)
                cursor.execute(f"DELETE FROM {TABLE} WHERE account_id = %s AND extension_id = ANY(%s)",
                               [account.pk, params["extensions"]])
                filters["extensions"] = "AND e.id = ANY(%(extensions)s)"
                filters["siblings"] = "AND s.extension_id = ANY(%(extensions)s)"
            if scope.boxes:
                # All of them: a box's number may have changed, and they are few.
                cursor.execute(f"DELETE FROM {TABLE} WHERE account_id = %s AND extension_id IS NULL "
                               f"AND kind = {DirectoryEntry.Kind.VOICEMAIL_BOX}", [account.pk])
                filters["boxes"] = ""
        if scope.whole or scope.extensions or scope.boxes:
            cursor.execute(_ENTRIES_SQL.format(schema=schema, table=TABLE, **filters), params)
        facts = scope.whole or scope.blocks
        if not facts:
            # An account's first writes (its extensions) make its facts row too, as a
            # rebuild would: without one the dialplan reads the blocks from the schema.
            cursor.execute(f"SELECT 1 FROM {_FACTS_TABLE} WHERE account_id = %s", [account.pk])
            facts = cursor.fetchone() is None
        if facts:
            cursor.execute(f"DELETE FROM {_FACTS_TABLE} WHERE account_id = %s", [account.pk])
            cursor.execute(_FACTS_SQL.format(schema=schema, facts=_FACTS_TABLE), [account.pk])


def rebuild_all(accounts: Iterable[Account] | None = None, *,
                log: Callable[[str], object] | None = None) -> int:
    """Rebuild every account's rows (or ``accounts``'), one transaction each, so FreeSWITCH
    keeps being answered meanwhile. Deleted accounts too: a restore serves them again.
    Returns how many accounts were indexed."""
    if accounts is None:
        accounts = Account.objects.exclude(schema_name=get_public_schema_name()).order_by("pk")
    done, start = 0, time.perf_counter()
    for account in accounts:
        if not schema_exists(account.schema_name):
            continue
        with transaction.atomic():
            rebuild(account)
        done += 1
        if log and done % 100 == 0:
            log(f"  {done} accounts indexed ({time.perf_counter() - start:.0f} s)")
    return done


def lookup(account_id: int, user_id: str) -> DirectoryEntry | None:
    """The entry FreeSWITCH gets for ``user_id`` in the account: one indexed query in the
    public schema."""
    rows = prepared.instances(DirectoryEntry, _LOOKUP_SQL, [account_id, user_id])
    return rows[0] if rows else None


# The same lookup for a ``sip_auth`` fetch, which also asks whether a live password-guessing
# block (fsnodes.auth_guard) covers the user or the request's address: still one query.
_AUTH_LOOKUP_SQL = f"""
    SELECT e.*, EXISTS (
      SELECT 1 FROM {AuthBlock._meta.db_table} b
      WHERE b.cleared_at IS NULL AND b.expires_at > statement_timestamp()
        AND ((b.kind = '{AuthBlock.Kind.USER}' AND b.account_id = e.account_id AND b.user_id = e.user_id)
             OR (b.kind = '{AuthBlock.Kind.ADDRESS}' AND b.address = %s::inet))
    ) AS auth_blocked
    FROM {TABLE} e WHERE e.account_id = %s AND e.user_id = %s ORDER BY e.kind LIMIT 1
"""


def lookup_for_auth(account_id: int, user_id: str, address: str | None) -> tuple[DirectoryEntry | None, bool]:
    """(the entry, whether a live block refuses this authentication); ``address`` None
    when the request named none that is an IP address. A user with no entry is not found
    whatever the blocks say."""
    rows = prepared.instances(DirectoryEntry, _AUTH_LOOKUP_SQL, [address, account_id, user_id])
    return (rows[0], bool(rows[0].auth_blocked)) if rows else (None, False)


def group_numbers(account_id: int, group: str) -> list[str]:
    """The numbers of the account's enabled extensions in call group ``group``."""
    return [row[0] for row in prepared.rows(_GROUP_SQL, [account_id, group])]


_FACTS_BY_NUMBER = (f"SELECT route_facts FROM {TABLE} WHERE account_id = %s AND user_id = %s "
                    f"AND kind = {DirectoryEntry.Kind.EXTENSION}")
_FACTS_BY_PK = (f"SELECT route_facts FROM {TABLE} WHERE account_id = %s AND extension_id = %s "
                f"AND kind = {DirectoryEntry.Kind.EXTENSION}")


def extension_facts(account_id: int, by: str, value: object) -> Extension | None:
    """The enabled extension numbered (``by="number"``) or keyed (``"pk"``) ``value``, as
    pbx.routing's schema query returns it, from the index; None when the index has no
    such row (a disabled extension, or rows written before the facts existed): the
    caller then asks the tenant's schema."""
    sql = _FACTS_BY_NUMBER if by == "number" else _FACTS_BY_PK
    found = prepared.rows(sql, [account_id, str(value) if by == "number" else value])
    facts = found[0][0] if found else None
    if not facts:
        return None
    if isinstance(facts, str):
        facts = json.loads(facts)
    fields = Extension._meta.concrete_fields
    extension = Extension.from_db(connection.alias, [field.attname for field in fields],
                                  [field.to_python(facts.get(field.column)) for field in fields])
    for name in EXTENSION_EXTRAS:
        setattr(extension, name, facts.get(name))
    return extension

