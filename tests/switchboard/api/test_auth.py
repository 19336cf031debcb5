"""Who the API accepts: API keys (Bearer), the session bound to its host, never basic
authentication; and the throttle per key."""

from __future__ import annotations

import base64

from django.test import override_settings

from tenants.actions import do_grant_masquerade
from tests.conftest import PASSWORD, Browser, Tree
from tests.switchboard.api.client import Api, accounts_url, body, host_of, key_for

ACCOUNTS = "/api/v1/accounts/"


def names(response) -> list[str]:
    return [item["name"] for item in body(response)["results"]]


def test_basic_authentication_is_not_an_api_authenticator(tree: Tree):
    """It would sign a user of one tenant in on any host, skipping the session binding."""
    credentials = base64.b64encode(f"c1_admin:{PASSWORD}".encode()).decode()
    for host in ("localhost", host_of(tree.c1), host_of(tree.c2)):
        refused = Api(host=host).send("get", ACCOUNTS, HTTP_AUTHORIZATION=f"Basic {credentials}")
        assert refused.status_code == 401, host


def test_malformed_bearer_tokens_are_401(tree: Tree):
    for header in ("Bearer", "Bearer ", "Bearer nonsense", "Bearer sb_abc_def", "bearer sb_" + "x" * 60):
        refused = Api().send("get", ACCOUNTS, HTTP_AUTHORIZATION=header)
        assert refused.status_code == 401, header
        assert set(body(refused)) == {"detail"}


def test_a_session_works_on_the_host_it_was_opened_on_only(tree: Tree):
    provider = Browser("localhost").login_as(tree.user("r1_admin"))
    as_api = Api()
    as_api.cookies = provider.cookies
    assert names(as_api.send("get", ACCOUNTS)) == ["R1", "C1", "R1A", "C1A"]
    c1 = Browser(host_of(tree.c1)).login_as(tree.user("c1_admin"))
    on_c1 = Api(host=host_of(tree.c1))
    on_c1.cookies = c1.cookies
    assert names(on_c1.send("get", ACCOUNTS)) == ["C1"]
    on_c2 = Api(host=host_of(tree.c2))
    on_c2.cookies = c1.cookies
    assert on_c2.send("get", ACCOUNTS).status_code == 401
    # Customer staff cannot use the provider's host (the admin is not theirs).
    customer_on_provider = Api()
    customer_on_provider.cookies = Browser("localhost").login_as(tree.user("c1_admin")).cookies
    assert customer_on_provider.send("get", ACCOUNTS).status_code == 401


def test_a_session_write_needs_the_csrf_token(tree: Tree):
    browser = Browser(host_of(tree.c1), enforce_csrf_checks=True).login_as(tree.user("c1_admin"))
    refused = browser.post(accounts_url(tree.c1, "extensions"), {"number": "1001", "name": "A"},
                           content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in body(refused)["detail"]


def test_a_masquerading_admin_reaches_the_account_it_uses_only(tree: Tree):
    token = do_grant_masquerade(tree.user("r1_admin"), tree.c1)
    browser = Browser(host_of(tree.c1))
    assert browser.post("/masquerade/", {"token": token}).status_code == 302
    api = Api(host=host_of(tree.c1))
    api.cookies = browser.cookies
    assert names(api.send("get", ACCOUNTS)) == ["C1"]
    assert api.send("get", accounts_url(tree.r1)).status_code == 404


def test_a_key_on_a_tenants_host_reaches_that_tenant_only(tree: Tree):
    token = key_for(tree.user("r1_admin"))
    assert names(Api(host=host_of(tree.c1), token=token).send("get", ACCOUNTS)) == ["C1"]
    assert names(Api(token=token).send("get", ACCOUNTS)) == ["R1", "C1", "R1A", "C1A"]
    assert Api(host=host_of(tree.c2), token=token).send("get", ACCOUNTS).status_code == 401


@override_settings(API_THROTTLE_RATE="3/minute")
def test_requests_beyond_the_rate_are_429_with_retry_after_per_key(tree: Tree):
    busy, other = Api(token=key_for(tree.user("c1_admin"))), Api(token=key_for(tree.user("c1_admin")))
    assert [busy.send("get", ACCOUNTS).status_code for _ in range(3)] == [200, 200, 200]
    throttled = busy.send("get", ACCOUNTS)
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 60
    # On another host the same key has the same count.
    assert Api(host=host_of(tree.c1), token=busy.defaults["HTTP_AUTHORIZATION"][7:]).send(
        "get", ACCOUNTS).status_code == 429
    assert other.send("get", ACCOUNTS).status_code == 200
