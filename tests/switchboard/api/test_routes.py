"""Over every route of the API, so a new endpoint cannot skip them: a test class covers
it (tests/**/api/, ObjectApiTests or its own ``covered_routes``), nobody without
credentials gets past 401, and an account outside the caller's reach is a 404 for every
method — for a sibling reseller, a customer on its parent's path, a read-only key — and
a revoked key is 401."""

from __future__ import annotations

import pytest

from pbx.actions import do_create_extension
from pbx.actions.endusers import do_invite_end_user
from tenants.actions import do_revoke_api_key
from tenants.models import ApiKey
from tests.switchboard.api.client import Api, body, host_of, key_for
from tests.switchboard.api.routes import api_routes, declared

ROUTES = api_routes()
CALLS = [(route, method) for route in ROUTES for method in route.methods]


def _ids(call) -> str:
    route, method = call
    return f"{method.upper()} {route.name}"


def test_the_api_has_routes_and_each_has_a_test_class():
    names = {route.name for route in ROUTES}
    assert {"account-list", "extension-detail", "ring-group-members"} <= names
    assert names - declared("covered_routes") == set()


@pytest.mark.parametrize("call", CALLS, ids=[_ids(call) for call in CALLS])
def test_nobody_without_credentials_gets_past_401(tree, call):
    route, method = call
    refused = Api().send(method, route.url(tree.c1.pk), {})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("call", [c for c in CALLS if c[0].account_scoped],
                         ids=[_ids(c) for c in CALLS if c[0].account_scoped])
def test_an_account_outside_reach_is_404_for_every_method(tree, call):
    route, method = call
    cases = [
        (key_for(tree.user("r2_admin")), tree.c1),  # a sibling reseller
        (key_for(tree.user("c1_admin")), tree.r1),  # a customer on its parent's path
        (key_for(tree.user("c1a_admin")), tree.c1),  # a cousin
        (key_for(tree.user("r2_admin"), read_only=True), tree.r1),  # read-only: 404, not 403
    ]
    missing = Api(token=key_for(tree.user("master_admin"))).send(method, route.url(999999), {})
    assert missing.status_code == 404
    for token, account in cases:
        refused = Api(token=token).send(method, route.url(account.pk), {})
        assert (refused.status_code, body(refused)) == (404, body(missing)), account.name


@pytest.mark.parametrize("call", CALLS, ids=[_ids(call) for call in CALLS])
def test_a_revoked_key_is_401(tree, call):
    route, method = call
    admin = tree.user("c1_admin")
    token = key_for(admin)
    do_revoke_api_key(tree.c1, ApiKey.objects.matching(token), actor=admin)
    refused = Api(token=token).send(method, route.url(tree.c1.pk), {})
    assert refused.status_code == 401 and body(refused) == {"detail": "This API key has been revoked."}


@pytest.mark.parametrize("call", CALLS, ids=[_ids(call) for call in CALLS])
def test_an_employees_own_login_is_403_for_every_method(tree, call):
    """An end user (My phone) has no admin rights: their session on their own host,
    and a key made for them, are refused on every route, reading included."""
    route, method = call
    alice = do_create_extension(tree.c1, number="1001", name="Alice")
    employee = do_invite_end_user(tree.c1, alice, email="alice@example.com")
    session = Api(host=host_of(tree.c1)).login_as(employee)
    keyed = Api(host=host_of(tree.c1), token=key_for(employee))
    for api in (session, keyed):
        refused = api.send(method, route.url(tree.c1.pk), {})
        assert refused.status_code == 403, (method, route.name)
        assert "My phone" in body(refused)["detail"]
