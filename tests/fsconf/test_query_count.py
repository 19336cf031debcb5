"""At most 3 SQL queries per uncached fetch (issue 3's budget), locked for the request
shapes of the captures. django-tenants' ``SET search_path`` switches are not queries
against data and are not counted; the hot shapes make none."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fsconf.conftest import acme_main_number
from tests.fsconf.replay import replay, request

SHAPES = [
    "directory-sip_auth-register-acme-1001-a1hash-ok",
    "directory-sip_auth-invite-acme-1001",
    "directory-user_call-acme-1002",
    "directory-message-count-after-register-acme-1001",
    "dialplan-acme-1001-to-1002",
    "dialplan-public-did-14165550100-external-profile",
    "directory-gateways-startup-profile-internal",
]


@pytest.fixture
def routed(acme_beta):
    acme_main_number(acme_beta, "1001")
    return acme_beta


@pytest.mark.parametrize("name", SHAPES)
def test_at_most_three_queries(routed, name):
    with CaptureQueriesContext(connection) as captured:
        result = replay(request(name))
    assert result.status_code == 200 and b"not found" not in result.content, result.content
    queries = [q["sql"] for q in captured if not q["sql"].startswith("SET search_path")]
    assert len(queries) <= 3, "\n\n".join(queries)
    # Tenant tables are named with their schema: the hot path never switches search_path
    # (a switch is a round trip, and leaves a schema the next query must switch back from).
    switches = [q["sql"] for q in captured if q["sql"].startswith("SET search_path")]
    assert switches == [], switches
    # Nor does it read the tenant's own tables: the public index holds what it needs.
    in_schema = [sql for sql in queries if routed.c1.schema_name in sql]
    assert in_schema == [], in_schema


def test_outbound_call_and_sofia_conf_within_budget(routed, committed):
    from carriers.actions import do_create_trunk
    from tests.fsconf.replay import Captured
    from tests.fsconf.test_outbound import dial_body

    with committed():
        do_create_trunk(routed.user("master_admin"), routed.master, name="A",
                        gateways=[{"server": "a.example.com"}, {"server": "b.example.com"}])
    sofia = request("configuration-sofia.conf-startup")
    for captured in (dial_body("2125550123"), dial_body("911"), Captured(**vars(sofia))):
        with CaptureQueriesContext(connection) as queries:
            result = replay(captured)
        assert result.status_code == 200 and b"gateway" in result.content, result.content
        sql = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
        assert len(sql) <= 3, "\n\n".join(sql)
        assert not [q for q in sql if routed.c1.schema_name in q], sql
