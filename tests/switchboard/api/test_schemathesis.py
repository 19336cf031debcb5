"""schemathesis against our own OpenAPI document, in the suite and on the real database:
for every operation, generated requests (a bounded number each) as an admin of the
reseller above the target customer get no 5xx, and every answer matches the document
(status code, content type, headers, body)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Tree
from tests.switchboard.api.client import key_for

# Per operation; enough to reach the interesting answers (201, 400, 404, 409) of each.
EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(tree):
    """The document as served, and the app called in-process (WSGI) on the test's own
    database connection: as Django's test client does, requests must not close it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_answers_within_its_document(tree: Tree, api_schema):
    token = key_for(tree.user("r1_admin"))
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    seen: Counter[tuple[str, int]] = Counter()
    # Account operations act on C1A (so a generated delete or suspend leaves C1 alone);
    # PBX objects live in C1.
    for operation in sorted(operations, key=lambda op: op.path):
        account = tree.c1 if operation.path.count("/") > 5 and "domains" not in operation.path else tree.c1a
        path_parameters = {"account_id": account.pk} if "{account_id}" in operation.path else {}

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(path_parameters=path_parameters))
        def answers_within_the_document(case):
            response = case.call(headers=headers)
            seen[case.method.upper(), response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        answers_within_the_document()
    # The generated requests got past validation into the views, not only refusals.
    assert seen["GET", 200] > 20 and seen["POST", 201] + seen["PATCH", 200] > 0, seen
