"""Refusals in one place (switchboard/api/errors.py): field errors 400, conflicts 409,
anything not found or out of reach 404 with one body, and never a 500 for bad input."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from switchboard.api.errors import validation_response
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for


def test_an_actions_errors_map_to_400_and_409():
    fields = validation_response(ValidationError({"name": ["Too long."], NON_FIELD_ERRORS: ["No."]}))
    assert (fields.status_code, fields.data) == (400, {"name": ["Too long."], "non_field_errors": ["No."]})
    taken = validation_response(
        ValidationError({"number": [ValidationError("1001 is taken.", code="taken")]}))
    assert (taken.status_code, taken.data) == (409, {"detail": "1001 is taken.", "code": "taken",
                                                     "field": "number"})
    used = validation_response(ValidationError("Still used by: a; b.", code="in_use",
                                               params={"used_by": ["a", "b"]}))
    assert (used.status_code, used.data) == (409, {"detail": "Still used by: a; b.", "code": "in_use",
                                                   "used_by": ["a", "b"]})
    plain = validation_response(ValidationError("Nope."))
    assert (plain.status_code, plain.data) == (400, {"non_field_errors": ["Nope."]})


def test_bad_input_is_400_never_500(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    url = accounts_url(tree.c1, "extensions")
    cases = [
        "{not json", "[]", '"a string"', '{"number": "1001", "name": "A\\u0000B"}',
        '{"number": "1001", "name": "A", "ring_seconds": 99999999999999999999}',
        '{"number": "1001", "name": "A", "call_groups": "sales"}',
        '{"number": ["1001"], "name": {"x": 1}}',
    ]
    for raw in cases:
        response = api.generic("POST", url, raw, content_type="application/json")
        assert response.status_code == 400, (raw, response.content)
    assert api.generic("POST", url, "number=1", content_type="text/plain").status_code == 415
    for query in ("page=0", "page=abc", "page=99", "page_size=-1", "enabled=maybe", "ordering=secret"):
        response = api.send("get", f"{url}?{query}")
        assert response.status_code in (200, 400, 404), (query, response.status_code)


def test_an_id_that_is_no_number_is_404(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    for path in ("/api/v1/accounts/abc/", "/api/v1/accounts/1/extensions/abc/",
                 f"/api/v1/accounts/{tree.c1.pk}/extensions/99999999999999999999/"):
        assert api.send("get", path).status_code == 404, path
    assert body(api.send("get", "/api/v1/accounts/99999999999999999999/")) == {"detail": "Not found."}
