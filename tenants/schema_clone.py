"""Copy a Django-made schema (tables, identity columns, constraints, indexes, rows).

django-tenants' ``clone_schema()`` (pg-clone-schema) handles every kind of object but
re-reads the whole catalog in PL/pgSQL on every call; here the template is read once
into a plan of plain DDL, and a clone is that plan in one round trip. A template
holding anything the plan does not cover (views, functions, triggers, own sequences or
types) is reported by ``unsupported_objects`` so the caller can use the general path.
"""

from __future__ import annotations

from dataclasses import dataclass

_TABLE_LIKE = "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS"
SCHEMA_TOKEN = "\x00SCHEMA\x00"


@dataclass(frozen=True)
class ClonePlan:
    template: str
    statements: tuple[str, ...]

    def sql_for(self, quoted_schema: str) -> str:
        body = ";\n".join(s.replace(SCHEMA_TOKEN, quoted_schema) for s in self.statements)
        return f"CREATE SCHEMA {quoted_schema};\n{body};"


def _rows(cursor, sql: str, params: list) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def unsupported_objects(cursor, template: str) -> list[str]:
    """Names of objects in ``template`` the plan would not copy."""
    return [row[0] for row in _rows(cursor, """
        SELECT 'relation ' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'i', 'S')
        UNION ALL
        SELECT 'sequence ' || c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND c.relkind = 'S' AND NOT EXISTS (
               SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')
        UNION ALL
        SELECT 'function ' || p.proname FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s
        UNION ALL
        SELECT 'type ' || t.typname FROM pg_type t
          JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = %s AND t.typrelid = 0 AND t.typcategory <> 'A'
        UNION ALL
        SELECT 'trigger ' || tg.tgname FROM pg_trigger tg
          JOIN pg_class c ON c.oid = tg.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND NOT tg.tgisinternal
        UNION ALL
        SELECT 'serial default ' || c.relname || '.' || a.attname FROM pg_attrdef ad
          JOIN pg_class c ON c.oid = ad.adrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
         WHERE n.nspname = %s AND pg_get_expr(ad.adbin, ad.adrelid) LIKE '%%nextval(%%'
    """, [template] * 6)]


def build_plan(cursor, template: str) -> ClonePlan:
    (q_template,) = _rows(cursor, "SELECT quote_ident(%s)", [template])[0]
    tables = _rows(cursor, """
        SELECT c.oid, quote_ident(c.relname) FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname
    """, [template])
    statements: list[str] = []
    for oid, q_table in tables:
        statements.append(
            f"CREATE TABLE {SCHEMA_TOKEN}.{q_table} (LIKE {q_template}.{q_table} {_TABLE_LIKE})"
        )
        columns = ", ".join(name for (name,) in _rows(cursor, """
            SELECT quote_ident(attname) FROM pg_attribute
             WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
             ORDER BY attnum
        """, [oid]))
        (has_rows,) = _rows(cursor, f"SELECT EXISTS (SELECT 1 FROM {q_template}.{q_table})", [])[0]
        if not has_rows:
            continue
        statements.append(
            f"INSERT INTO {SCHEMA_TOKEN}.{q_table} ({columns}) OVERRIDING SYSTEM VALUE "
            f"SELECT {columns} FROM {q_template}.{q_table}"
        )
        # The identity sequence through pg_depend (indexed): the pg_sequences view would
        # read every sequence of every tenant.
        for q_column, last_value in _rows(cursor, """
            SELECT quote_ident(a.attname), pg_sequence_last_value(d.objid::regclass)
              FROM pg_attribute a
              JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
                              AND d.refobjsubid = a.attnum AND d.deptype = 'i'
                              AND d.classid = 'pg_class'::regclass
             WHERE a.attrelid = %s AND a.attidentity <> ''
        """, [oid]):
            if last_value is not None:
                statements.append(
                    f"ALTER TABLE {SCHEMA_TOKEN}.{q_table} ALTER COLUMN {q_column} "
                    f"RESTART WITH {int(last_value) + 1}"
                )
    # Keys and checks before foreign keys, which need the referenced keys to exist.
    constraints = _rows(cursor, """
        SELECT quote_ident(c.relname), quote_ident(con.conname), con.contype,
               pg_get_constraintdef(con.oid)
          FROM pg_constraint con
          JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'c', 'x', 'f')
         ORDER BY con.contype = 'f', c.relname, con.conname
    """, [template])
    for q_table, q_name, kind, definition in constraints:
        if kind == "f":
            definition = definition.replace(
                f"REFERENCES {q_template}.", f"REFERENCES {SCHEMA_TOKEN}."
            )
        statements.append(
            f"ALTER TABLE {SCHEMA_TOKEN}.{q_table} ADD CONSTRAINT {q_name} {definition}"
        )
    indexes = _rows(cursor, """
        SELECT quote_ident(t.relname), pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class t ON t.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = %s
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                                                      AND con.conrelid = i.indrelid)
         ORDER BY 2
    """, [template])
    for q_table, definition in indexes:
        source = f" ON {q_template}.{q_table} "
        if source not in definition:
            raise ValueError(f"cannot re-target index definition: {definition}")
        statements.append(definition.replace(source, f" ON {SCHEMA_TOKEN}.{q_table} ", 1))
    return ClonePlan(template=template, statements=tuple(statements))
