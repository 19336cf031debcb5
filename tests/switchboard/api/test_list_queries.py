"""Every list of the API costs the same queries whatever its size, and no list can skip the
test: the list routes are found in the OpenAPI document (a GET answering a page of
results or an array), and each must be named in some test module's
``query_counted_routes`` (ObjectApiTests declares its "<basename>-list" itself) by the
test that pins its count. The lists no other module counts are counted here."""

from __future__ import annotations

import importlib
import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from carriers.actions import do_create_trunk
from pbx.actions import do_add_moh_track, do_create_moh_group
from tenants.actions import do_soft_delete_account
from tests.conftest import Tree
from tests.pbx.api.test_media import wav
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.routes import api_routes, declared
from tests.webhooks.api.test_webhooks import deliveries_url, delivery
from webhooks.actions import do_create_webhook

query_counted_routes = ("account-children", "account-descendants", "account-deleted", "api-key-list",
                        "webhook-delivery-list", "moh-group-tracks", "trunk-gateways", "role-list")
# Counted elsewhere by a test of another name (checked below that it is still there).
COUNTED_BY = {"call-record-list": ("tests.cdr.api.test_calls",
                                    "test_a_page_costs_the_same_queries_deep_or_shallow")}
# Lists that read no rows of their own (nothing to grow).
NO_ROWS = {"conference-list": "the node manager's in-memory registry of running conferences"}


def list_routes(document: dict) -> set[str]:
    """The routes whose GET answers a page of results or an array, per the document."""
    schemas = document["components"]["schemas"]
    # The document names path parameters its own way ({id} for <int:pk>): matched by shape.
    paths = {re.sub(r"\{\w+\}", "{}", path): operations for path, operations in document["paths"].items()}
    found = set()
    for route in api_routes():
        if "get" not in route.methods:
            continue
        operations = paths["/" + re.sub(r"<(?:\w+:)?\w+>", "{}", route.pattern)]
        answer = operations["get"]["responses"].get("200", {})
        for content in answer.get("content", {}).values():
            schema = content.get("schema", {})
            named = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
            if schema.get("type") == "array" or "results" in named.get("properties", {}):
                found.add(route.name)
    return found


def test_every_list_route_has_its_query_count_pinned(tree: Tree):
    document = json.loads(Api().get("/api/v1/schema/?format=json").content)
    lists = list_routes(document)
    assert {"extension-list", "account-children", "audit-event-list", "role-list"} <= lists
    for module, test in COUNTED_BY.values():
        assert callable(getattr(importlib.import_module(module), test, None)), (module, test)
    assert lists - declared("query_counted_routes") - set(COUNTED_BY) - set(NO_ROWS) == set()


def counts(api: Api, url: str, sizes: tuple[int, int]) -> list[int]:
    """The queries of the list's page at two page sizes."""
    api.send("get", url)  # the key's first use also records it
    found = []
    for size in sizes:
        with CaptureQueriesContext(connection) as queries:
            page = api.send("get", f"{url}?page_size={size}")
        assert page.status_code == 200, body(page)
        assert len(body(page)["results"]) == size
        found.append(len(queries))
    return found


def test_the_account_lists_cost_the_same_queries_whatever_their_size(tree: Tree):
    master = tree.user("master_admin")
    api = Api(token=key_for(master))
    children = counts(api, accounts_url(tree.master, "children"), (1, 3))
    descendants = counts(api, accounts_url(tree.master, "descendants"), (1, 6))
    do_soft_delete_account(master, tree.c0)
    do_soft_delete_account(master, tree.c1a)
    deleted = counts(api, accounts_url(tree.master, "deleted"), (1, 2))
    assert children[0] == children[1] and descendants[0] == descendants[1] and deleted[0] == deleted[1], (
        children, descendants, deleted)


def test_a_users_api_keys_and_a_webhooks_deliveries_cost_the_same_queries_whatever_their_size(tree: Tree):
    admin = tree.user("c1_admin")
    for n in range(3):
        key_for(admin, name=f"key {n}")
    api = Api(token=key_for(admin))
    keys = counts(api, accounts_url(tree.c1, "users", admin.pk, "api-keys"), (1, 4))
    hook, _ = do_create_webhook(tree.c1, actor=None, url="https://crm.example.com/h")
    for _ in range(4):
        delivery(hook)
    deliveries = counts(api, deliveries_url(tree.c1, hook.pk), (1, 4))
    assert keys[0] == keys[1] and deliveries[0] == deliveries[1], (keys, deliveries)


def unpaged(api: Api, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        answer = api.send("get", url)
    assert answer.status_code == 200, body(answer)
    return len(body(answer)), len(queries)


def test_the_sub_lists_of_one_object_cost_the_same_queries_for_one_row_or_four(tree: Tree):
    api = Api(token=key_for(tree.user("r1_admin")))
    api.send("get", accounts_url(tree.c1, "trunks"))
    found = []
    for n in (1, 4):
        group = do_create_moh_group(tree.c1, name=f"Group {n}")
        for index in range(n):
            do_add_moh_track(tree.c1, group, upload=wav(f"track{index}.wav"))
        trunk = do_create_trunk(tree.user("master_admin"), tree.c1, name=f"Trunk {n}",
                                gateways=[{"server": f"sip{i}.example.com", "port": 5060, "transport": "udp"}
                                          for i in range(n)])
        found.append((unpaged(api, accounts_url(tree.c1, "hold-music-groups", group.pk, "tracks")),
                      unpaged(api, accounts_url(tree.c1, "trunks", trunk.pk, "gateways"))))
    (tracks1, gateways1), (tracks4, gateways4) = found
    assert (tracks1[0], tracks4[0], gateways1[0], gateways4[0]) == (1, 4, 1, 4)
    assert tracks1[1] == tracks4[1] and gateways1[1] == gateways4[1], found


def test_the_roles_cost_no_more_queries_than_the_caller_costs(tree: Tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    api.send("get", "/api/v1/roles/")
    with CaptureQueriesContext(connection) as roles:
        api.send("get", "/api/v1/roles/")
    with CaptureQueriesContext(connection) as jobs:
        api.send("get", "/api/v1/jobs/987654/")  # a 404: the caller's identity and nothing else
    assert len(roles) <= len(jobs), ([q["sql"] for q in roles], [q["sql"] for q in jobs])
