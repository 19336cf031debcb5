"""The hot path's prepared statements (common/prepared.py) give what Django's raw()
gives, are seen by query logging, and fail as Django's DatabaseError."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from carriers.models import Trunk
from common import prepared
from tenants.models import Account
from tenants.tenancy import _BY_DOMAIN

EXTRAS = ("blocked", "all_domains", "trunk_owner_id")


def test_instances_match_django_raw(acme_beta):
    domain = acme_beta.c1.domains.get(is_primary=True).domain
    (expected,) = Account.objects.raw(_BY_DOMAIN, [domain])
    for _ in range(2):  # the second run uses the prepared statement
        (got,) = prepared.instances(Account, _BY_DOMAIN, [domain])
        assert got.pk == expected.pk == acme_beta.c1.pk
        for field in Account._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
        for name in EXTRAS:
            assert getattr(got, name) == getattr(expected, name), name
        assert got._state.adding is False and got._state.db == "default"


def test_fields_with_converters_and_arrays_come_back_typed(acme_beta, committed):
    from carriers.actions import do_create_trunk

    with committed():
        do_create_trunk(acme_beta.user("master_admin"), acme_beta.master, name="A",
                        rules=[r"^1\d{10}$"], gateways=[{"server": "a.example.com"}])
    sql = "SELECT * FROM carriers_trunk WHERE name = %s"
    (expected,) = Trunk.objects.raw(sql, ["A"])
    (got,) = prepared.instances(Trunk, sql, ["A"])
    assert got.rules == expected.rules == [r"^1\d{10}$"]
    assert [getattr(got, f.attname) for f in Trunk._meta.concrete_fields] == \
        [getattr(expected, f.attname) for f in Trunk._meta.concrete_fields]


def test_queries_are_logged_like_any_other(acme_beta):
    with CaptureQueriesContext(connection) as captured:
        prepared.rows("SELECT count(*) FROM tenants_account WHERE kind = %s", ["customer"])
    assert len(captured) == 1 and "FROM tenants_account WHERE kind" in captured[0]["sql"]


def test_errors_are_django_database_errors(db):
    with pytest.raises(DatabaseError):
        prepared.rows("SELECT no_such_column FROM tenants_account WHERE id = %s", [1])
