"""The OpenAPI document: valid without a single warning (every field typed, every enum
named), served with Swagger UI and Redoc from our own static files, every operation
documenting its errors."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from tests.conftest import Tree
from tests.switchboard.api.client import Api


@pytest.mark.django_db
def test_spectacular_validates_the_document_without_warnings(tmp_path):
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--urlconf", "switchboard.urls_api",
                 "--file", str(target))
    assert "/api/v1/accounts/{account_id}/extensions/" in target.read_text()


def document(api: Api) -> dict:
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_every_operation_documents_its_errors_and_post_the_idempotency_key(tree: Tree):
    paths = document(Api())["paths"]
    assert len(paths) >= 10
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"400", "403", "409"} <= codes, (method, path)
            if method == "post":
                names = [p["name"] for p in operation.get("parameters", [])]
                assert "Idempotency-Key" in names, path


def test_the_document_and_its_viewers_are_served_on_every_host_without_a_cdn(tree: Tree):
    for host in ("localhost", "c1.localhost"):
        api = Api(host=host)
        assert document(api)["info"]["title"] == "Switchboard API"
        for page in ("/api/v1/docs/", "/api/v1/redoc/"):
            html = api.get(page).content.decode()
            assert "/static/drf_spectacular_sidecar/" in html, page
            assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html, page
            assert "fonts.googleapis" not in html and "fonts.gstatic" not in html, page


def test_the_document_is_built_once_per_process_and_served_to_every_host(tree: Tree):
    """Building it costs seconds on a URL anyone may ask for: the second answer, on any
    host, is the document the first built."""
    first = Api(host="localhost").get("/api/v1/schema/?format=json")
    second = Api(host="c1.localhost").get("/api/v1/schema/?format=json")
    assert first.status_code == second.status_code == 200
    assert second.data is first.data
