"""The suite's own spare pool (tests/spare_pool.py): a spare a test took and gave back is
as fresh for the next test as a new copy of the template."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests import spare_pool
from tests.conftest import make_account


class GiveBack(Exception):
    """Rolls a savepoint back, as the end of a test rolls its transaction back."""


def next_key(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{schema}".django_content_type (app_label, model) '
                       "VALUES ('probe', 'probe') RETURNING id")
        return cursor.fetchone()[0]


def test_a_spare_given_back_starts_its_keys_where_a_fresh_copy_does(tree):
    master = tree.user("master_admin")
    with pytest.raises(GiveBack), transaction.atomic():
        taken = make_account(master, tree.master, "Probe")
        first = next_key(taken.schema_name)
        raise GiveBack
    # The spare is back under its name; its identity sequence is not (nextval holds).
    assert spare_pool.restore_sequences() >= 1
    with transaction.atomic():
        again = make_account(master, tree.master, "Probe")
        assert again.schema_name == taken.schema_name
        second = next_key(again.schema_name)
    spare_pool.empty()
    copied = make_account(master, tree.master, "Copy")
    assert first == second == next_key(copied.schema_name)
