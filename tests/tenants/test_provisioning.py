"""New tenant schemas are copies of the migrated template schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tenants import provisioning
from tenants.models import Account
from tests.conftest import make_account

# About the copy itself: every account here gets a fresh copy, not one of the suite's
# ready-made spares (tests/spare_pool.py).
pytestmark = pytest.mark.usefixtures("no_spares")

CATALOG = {
    "tables": """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1""",
    "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default,
                         is_identity, identity_generation
                  FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2""",
    "constraints": """SELECT c.relname, con.conname, con.contype,
                             regexp_replace(pg_get_constraintdef(con.oid), '\\m\\w+\\.', '', 'g')
                      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = %s AND con.contype <> 'n' ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, regexp_replace(indexdef, ' ON \\w+\\.', ' ON ')
                  FROM pg_indexes WHERE schemaname = %s ORDER BY 1, 2""",
}


def catalog(schema: str) -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        found = {}
        for name, sql in CATALOG.items():
            cursor.execute(sql, [schema])
            found[name] = cursor.fetchall()
        return found


def rows(schema: str, table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')
        return cursor.fetchall()


def test_new_account_schema_matches_the_template(tree):
    template = catalog("tenant_template")
    assert template["tables"], "the template has tables"
    assert catalog(tree.c1.schema_name) == template
    assert rows(tree.c1.schema_name, "django_migrations") == rows("tenant_template", "django_migrations")


def test_new_schema_needs_no_migration(tree):
    connection.set_tenant(tree.c1)
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


def test_identity_continues_after_copied_rows(tree):
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{tree.c1.schema_name}".django_content_type (app_label, model) '
                       "VALUES ('probe', 'probe') RETURNING id")
        (new_id,) = cursor.fetchone()
    assert new_id > max(row[0] for row in rows("tenant_template", "django_content_type"))


def test_schemas_are_separate(tree):
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{tree.c1.schema_name}".django_content_type (app_label, model) '
                       "VALUES ('only', 'c1')")
    assert ("only", "c1") not in [r[1:] for r in rows(tree.c2.schema_name, "django_content_type")]
    assert ("only", "c1") not in [r[1:] for r in rows("tenant_template", "django_content_type")]


def test_missing_template_is_rebuilt_before_cloning(tree):
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA tenant_template CASCADE")
    assert not provisioning.template_is_current()
    account = make_account(tree.user("master_admin"), tree.master, "After rebuild")
    assert provisioning.template_is_current()
    assert catalog(account.schema_name) == catalog("tenant_template")


def test_template_with_other_objects_uses_the_general_clone(tree, monkeypatch):
    monkeypatch.setattr(provisioning, "_plans", {})
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIEW tenant_template.probe_view AS SELECT 1 AS one")
    account = make_account(tree.user("master_admin"), tree.master, "With view")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT one FROM "{account.schema_name}".probe_view')
        assert cursor.fetchone() == (1,)
    monkeypatch.setattr(provisioning, "_plans", {})


def test_schema_names_are_safe_identifiers(tree):
    from tenants.actions import do_create_account

    account = do_create_account(tree.user("master_admin"), parent=tree.master,
                                name="Same; DROP SCHEMA public", domain="same.example.net")
    assert account.schema_name == "t_same_drop_schema_public"


def test_same_name_gets_a_suffix(tree):
    from tenants.actions import do_create_account

    a = do_create_account(tree.user("master_admin"), parent=tree.master, name="Twin",
                          domain="twin1.example.net")
    b = do_create_account(tree.user("master_admin"), parent=tree.master, name="Twin",
                          domain="twin2.example.net")
    assert (a.schema_name, b.schema_name) == ("t_twin", "t_twin_2")


def test_failed_creation_leaves_no_schema(tree):
    from django.core.exceptions import ValidationError

    from tenants.actions import do_create_account

    with pytest.raises(ValidationError):
        do_create_account(tree.user("master_admin"), parent=tree.master, name="Broken",
                          domain="broken.example.net",
                          admin_user={"username": "x", "password": "short"})
    assert not Account.objects.filter(name="Broken").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 't_broken'")
        assert cursor.fetchone() is None


def test_purge_drops_the_schema(tree):
    from tenants.actions import do_purge_account, do_soft_delete_account

    schema = tree.c0.schema_name
    do_soft_delete_account(tree.user("master_admin"), tree.c0)
    do_purge_account(tree.c0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        assert cursor.fetchone() is None
    assert not Account.objects.filter(pk=tree.c0.pk).exists()
    tree.master.refresh_from_db()
    assert tree.master.numchild == 2
