"""The pool of ready-made tenant schemas."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants import provisioning
from tests.conftest import make_account

# Each test builds the pool it is about, from empty (not the suite's, tests/spare_pool.py).
pytestmark = pytest.mark.usefixtures("no_spares")


def schemas(prefix: str) -> list[str]:
    return provisioning._schemas_like(prefix)


def current_prefix() -> str:
    return provisioning.spare_prefix(provisioning.template_migrations())


def test_account_takes_a_spare_and_refill_tops_up(tree, settings):
    settings.TENANT_SPARE_SCHEMAS = 2
    provisioning.refill_spares()
    spares = schemas(current_prefix())
    assert len(spares) == 2
    account = make_account(tree.user("master_admin"), tree.master, "Takes spare")
    assert len(schemas(current_prefix())) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", [account.schema_name])
        assert cursor.fetchone()[0] > 0
    assert provisioning.refill_spares() == 1
    assert len(schemas(current_prefix())) == 2


def test_spare_of_an_older_template_is_dropped_not_used(tree, settings):
    settings.TENANT_SPARE_SCHEMAS = 1
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA spare_0000000000_old")
    provisioning.refill_spares()
    assert schemas("spare_0000000000_") == []
    assert len(schemas(current_prefix())) == 1


def test_empty_pool_falls_back_to_a_copy(tree, settings):
    settings.TENANT_SPARE_SCHEMAS = 0
    provisioning.refill_spares()
    assert schemas("spare_") == []
    account = make_account(tree.user("master_admin"), tree.master, "Fresh copy")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{account.schema_name}".django_migrations')
        assert cursor.fetchone()[0] > 0


def test_taken_spare_is_identical_to_a_copy(tree, settings):
    from tests.tenants.test_provisioning import catalog

    settings.TENANT_SPARE_SCHEMAS = 1
    provisioning.refill_spares()
    from_spare = make_account(tree.user("master_admin"), tree.master, "From spare")
    assert schemas(current_prefix()) == []
    from_copy = make_account(tree.user("master_admin"), tree.master, "From copy")
    assert catalog(from_spare.schema_name) == catalog(from_copy.schema_name) == catalog("tenant_template")
