"""The suite's pool of spare tenant schemas: made once per test database, reused by
every test.

Copying the template costs PostgreSQL about 0.1 s of CPU per schema, and its rollback
again as much; the ``tree`` fixture alone creates seven accounts, so copies were most
of the suite's time. A spare taken by a test is renamed inside the test's transaction
(``tenants.provisioning._claim_spare``, the path most accounts take in production) and
the rollback renames it back, so every test finds the whole pool again. (A test with
``transaction=True`` that creates accounts keeps the spares it took: later tests then get
copies, as from an empty pool.)

One thing does not roll back: identity sequences (``nextval`` is not transactional). A
spare whose rows a test inserted would hand the next test other primary keys than a
fresh copy starts with; ``restore_sequences`` puts each one back where a copy of the
template starts it, before every database test.
"""

from __future__ import annotations

from django.db import connection

from tenants import provisioning

# A tree takes seven spares; a few tests create two or three accounts more.
SIZE = 10

_IDENTITY_SEQUENCES = """
    SELECT n.nspname, c.relname, a.attname, d.objid AS seq
      FROM pg_namespace n
      JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> ''
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                      AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
     WHERE n.nspname = %(template)s OR starts_with(n.nspname, 'spare_')
"""

# A copy restarts each identity after the template's last value (or at its start when
# the template never used it): setval(..., false) gives that state, and setval, like
# nextval, holds whatever the transaction around it does.
_RESTORE = f"""
    WITH seqs AS ({_IDENTITY_SEQUENCES})
    SELECT count(setval(spare.seq, COALESCE(pg_sequence_last_value(tpl.seq) + 1, s.seqstart), false))
      FROM seqs spare
      JOIN pg_sequence s ON s.seqrelid = spare.seq
      LEFT JOIN seqs tpl ON tpl.nspname = %(template)s
                        AND tpl.relname = spare.relname AND tpl.attname = spare.attname
     WHERE spare.nspname <> %(template)s AND pg_sequence_last_value(spare.seq) IS NOT NULL
"""


def fill() -> None:
    """Top the pool up to SIZE, committed (call outside any test transaction)."""
    provisioning.refill_spares(SIZE)


def restore_sequences() -> int:
    """Put back the identity sequences that earlier tests advanced; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(_RESTORE, {"template": provisioning.template_schema()})
        return cursor.fetchone()[0]


def empty() -> None:
    """Set every spare aside inside the test's transaction (its rollback brings them
    back): the pool as a fresh installation has it, or as a burst of creations leaves it.
    Renamed out of the ``spare_`` names, which are all provisioning looks at; dropping
    them would cost a second each test."""
    with connection.cursor() as cursor:
        for name in provisioning._schemas_like("spare_"):
            cursor.execute(f'ALTER SCHEMA "{name}" RENAME TO "set_aside_{name}"')
