"""Prepared statements for the few constant queries of the xml_curl hot path.

Django binds parameters on the client, so PostgreSQL plans every query anew. The tenant
lookup's plan (ancestor probes, the domain list, the trunk owner) costs more than running
it: prepared once per connection it went from 0.62 to 0.18 ms a lookup
(docs/benchmarks.md). Only queries whose text never changes belong here — a statement is
prepared per connection and per text — so the tenant-schema queries, whose text names
the schema, stay with Django.

The cursor is Django's wrapper around a server-binding psycopg cursor: queries are
logged, counted by tests and their errors turned into Django's DatabaseError as any
other. ``SWITCHBOARD_PREPARED_STATEMENTS=0`` turns preparing off (a PgBouncer in
transaction mode older than 1.21 cannot keep them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)
ENABLED = os.environ.get("SWITCHBOARD_PREPARED_STATEMENTS", "1") != "0"


class _PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=ENABLED, binary=binary)


def cursor():
    """A cursor whose statements are prepared on first use (in the connection's current
    transaction state, like any Django cursor). As Django's own cursors, the first one of
    a request (or call) runs the health check (CONN_HEALTH_CHECKS), so a connection that
    died while idle is replaced rather than failing the lookup."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = _PreparingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def rows(sql: str, params: Sequence[object]) -> list[tuple]:
    with cursor() as prepared:
        prepared.execute(sql, params)
        return prepared.fetchall()


@lru_cache(maxsize=64)
def _layout(model: type[Model], names: tuple[str, ...]) -> tuple[list, list, list, list]:
    """Where each of the model's fields sits among the columns ``names``, once per shape."""
    fields = model._meta.concrete_fields
    columns = {field.column for field in fields}
    position = {name: index for index, name in enumerate(names)}
    field_at = [position.get(field.column) for field in fields]
    attnames = [field.attname for field in fields if position.get(field.column) is not None]
    extras = [(index, name) for index, name in enumerate(names) if name not in columns]
    converters = [(index, field) for index, field in zip(field_at, fields, strict=True)
                  if index is not None and hasattr(field, "from_db_value")]
    return field_at, attnames, extras, converters


def instances(model: type[ModelT], sql: str, params: Sequence[object]) -> list[ModelT]:
    """``model.objects.raw(sql, params)``, prepared: columns named after the model's
    fields fill them (through the fields' own database converters), the others become
    attributes."""
    with cursor() as prepared:
        prepared.execute(sql, params)
        names = [column.name for column in prepared.description]
        found = prepared.fetchall()
    field_at, attnames, extras, converters = _layout(model, tuple(names))
    result = []
    for row in found:
        values = list(row)
        for index, field in converters:
            values[index] = field.from_db_value(values[index], None, connection)
        instance = model.from_db(connection.alias, attnames,
                                 [values[index] for index in field_at if index is not None])
        for index, name in extras:
            setattr(instance, name, values[index])
        result.append(instance)
    return result
