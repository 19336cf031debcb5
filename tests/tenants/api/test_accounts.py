"""Accounts through the API (tenants/api/views/accounts.py): the caller's own account and
everything below it, written by tenants.actions (who manages what, limits, the audit)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.actions import do_suspend_account
from tenants.models import Account, AuditEvent, Domain
from tests.conftest import PASSWORD, Tree
from tests.switchboard.api.client import Api, body, key_for

ACCOUNTS = "/api/v1/accounts/"


def url(account: Account | int, *rest: str) -> str:
    pk = account.pk if isinstance(account, Account) else account
    return "/".join([ACCOUNTS.rstrip("/"), str(pk), *rest]) + "/"


def names(response) -> list[str]:
    return [item["name"] for item in body(response)["results"]]


class TestAccountsApi:
    query_counted_routes = ("account-list",)
    covered_routes = ("account-list", "account-detail", "account-children", "account-descendants",
                      "account-tree", "account-suspend", "account-resume")

    def test_a_reseller_lists_itself_and_everything_below_it(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        listed = api.send("get", ACCOUNTS)
        assert listed.status_code == 200
        assert names(listed) == ["R1", "C1", "R1A", "C1A"]
        item = body(api.send("get", url(tree.c1)))
        assert (item["name"], item["kind"], item["parent"], item["domain"], item["aliases"]) == (
            "C1", "customer", tree.r1.pk, "c1.example.net", ["c1.localhost"])
        assert names(api.send("get", f"{ACCOUNTS}?kind=reseller")) == ["R1", "R1A"]
        assert names(api.send("get", f"{ACCOUNTS}?q=c1a.example")) == ["C1A"]
        assert names(api.send("get", f"{ACCOUNTS}?ordering=-name")) == ["R1A", "R1", "C1A", "C1"]

    def test_children_descendants_and_tree(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        assert names(api.send("get", url(tree.r1, "children"))) == ["C1", "R1A"]
        assert names(api.send("get", url(tree.r1, "descendants"))) == ["C1", "R1A", "C1A"]
        assert body(api.send("get", url(tree.r1, "tree"))) == {
            "id": tree.r1.pk, "name": "R1", "kind": "reseller", "status": "active", "children": [
                {"id": tree.c1.pk, "name": "C1", "kind": "customer", "status": "active", "children": []},
                {"id": tree.r1a.pk, "name": "R1A", "kind": "reseller", "status": "active", "children": [
                    {"id": tree.c1a.pk, "name": "C1A", "kind": "customer", "status": "active",
                     "children": []}]},
            ]}

    def test_accounts_outside_reach_are_404_like_missing_ones(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        missing = api.send("get", url(999999))
        assert missing.status_code == 404
        for account in (tree.master, tree.r2, tree.c2, tree.c0):
            for path in ((), ("children",), ("descendants",), ("tree",)):
                refused = api.send("get", url(account, *path))
                assert (refused.status_code, body(refused)) == (404, body(missing))
        assert "C2" not in names(api.send("get", ACCOUNTS))

    def test_creating_a_customer_with_its_domain_and_first_admin(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        created = api.send("post", url(tree.r1, "children"), {
            "name": "Acme", "domain": "acme.example.net", "aliases": ["acme.localhost"],
            "max_extensions": 20, "admin_user": {"username": "acme-admin", "password": PASSWORD}})
        assert created.status_code == 201, body(created)
        acme = Account.objects.get(pk=body(created)["id"])
        assert (acme.name, acme.kind, acme.max_extensions) == ("Acme", "customer", 20)
        assert acme.is_within(tree.r1) and acme.users.get().username == "acme-admin"
        assert body(created)["domain"] == "acme.example.net" and "admin_user" not in body(created)
        event = AuditEvent.objects.get(action="account.create", account=acme)
        assert (event.actor, event.ip) == (admin, "127.0.0.1")

    def test_what_the_actions_refuse_comes_back_by_field(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        reseller = api.send("post", url(tree.r1, "children"), {"name": "X", "domain": "x.example.net",
                                                               "kind": "reseller"})
        assert reseller.status_code == 400 and "kind" in body(reseller)
        too_many = api.send("patch", url(tree.c1), {"max_extensions": tree.r1.max_extensions + 1})
        assert too_many.status_code == 400 and "max_extensions" in body(too_many)
        taken = api.send("post", url(tree.r1, "children"), {"name": "Y", "domain": "c2.example.net"})
        assert taken.status_code == 409
        assert body(taken) == {"detail": "The domain c2.example.net is already in use on this platform.",
                               "code": "taken", "field": "domain"}
        bad = api.send("post", url(tree.r1, "children"), {"name": "Z", "domain": "not a domain"})
        assert bad.status_code == 400 and "domain" in body(bad)
        assert not Account.objects.filter(name__in=["X", "Y", "Z"]).exists()

    def test_update_suspend_resume_and_delete(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        changed = api.send("patch", url(tree.c1), {"name": "C1 Renamed", "max_concurrent_calls": 4})
        assert changed.status_code == 200 and body(changed)["name"] == "C1 Renamed"
        assert body(api.send("post", url(tree.c1, "suspend")))["status"] == "suspended"
        assert body(api.send("post", url(tree.c1, "resume")))["status"] == "active"
        assert api.send("delete", url(tree.c1)).status_code == 204
        assert Account.objects.get(pk=tree.c1.pk).is_deleted
        assert api.send("get", url(tree.c1)).status_code == 404
        assert [e.action for e in AuditEvent.objects.filter(account=tree.c1).order_by("id")][-4:] == [
            "account.update", "account.suspend", "account.reactivate", "account.delete"]

    def test_nobody_changes_their_own_account(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        for method, path, data in (("patch", (), {"max_extensions": 9999}), ("post", ("suspend",), None),
                                   ("delete", (), None)):
            refused = api.send(method, url(tree.r1, *path), data)
            assert refused.status_code in (400, 403), (method, path)
        tree.r1.refresh_from_db()
        assert (tree.r1.status, tree.r1.is_deleted) == ("active", False)

    def test_read_only_keys_and_users_change_nothing(self, tree: Tree):
        before = list(Account.objects.values_list("name", "status", "deleted_at", "max_extensions"))
        events = AuditEvent.objects.filter(action__startswith="account.").count()
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            api = Api(token=token)
            assert api.send("get", url(tree.c1)).status_code == 200
            for method, path, data in (("patch", (), {"name": "x"}), ("delete", (), None),
                                       ("post", ("suspend",), None), ("post", ("resume",), None),
                                       ("post", ("children",), {"name": "N", "domain": "n.example.net"})):
                assert api.send(method, url(tree.c1, *path), data).status_code == 403, (method, path)
        assert list(Account.objects.values_list("name", "status", "deleted_at", "max_extensions")) == before
        assert AuditEvent.objects.filter(action__startswith="account.").count() == events

    def test_a_suspended_accounts_key_is_refused(self, tree: Tree):
        token = key_for(tree.user("c1_admin"))
        do_suspend_account(tree.user("r1_admin"), tree.c1)
        refused = Api(token=token).send("get", ACCOUNTS)
        assert refused.status_code == 401 and "suspended" in body(refused)["detail"]

    def test_a_list_page_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        api = Api(token=key_for(tree.user("master_admin")))
        api.send("get", ACCOUNTS)
        counts = []
        for size in (1, 8):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"{ACCOUNTS}?page_size={size}")
            assert len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts == [7, 7], counts
        assert Domain.objects.count() >= 8


class TestDomainsApi:
    covered_routes = ("domains",)

    def test_reading_and_replacing_an_accounts_domains(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        assert body(api.send("get", url(tree.c1, "domains"))) == {"domain": "c1.example.net",
                                                                  "aliases": ["c1.localhost"]}
        put = api.send("put", url(tree.c1, "domains"), {"domain": "pbx.c1.example.net",
                                                        "aliases": ["c1.localhost", "c1.example.net"]})
        assert put.status_code == 200, body(put)
        assert body(put) == {"domain": "pbx.c1.example.net", "aliases": ["c1.example.net", "c1.localhost"]}
        assert AuditEvent.objects.filter(action="account.domains", account=tree.c1, ip="127.0.0.1").exists()

    def test_a_taken_domain_is_409_and_nothing_changes(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        taken = api.send("put", url(tree.c1, "domains"), {"domain": "c2.example.net"})
        assert taken.status_code == 409 and body(taken)["code"] == "taken"
        assert set(tree.c1.domains.values_list("domain", flat=True)) == {"c1.example.net", "c1.localhost"}

    def test_read_only_outside_and_own_account_are_refused(self, tree: Tree):
        data = {"domain": "new.example.net"}
        assert Api(token=key_for(tree.user("r1_readonly"))).send(
            "put", url(tree.c1, "domains"), data).status_code == 403
        assert Api(token=key_for(tree.user("r2_admin"))).send(
            "put", url(tree.c1, "domains"), data).status_code == 404
        assert Api(token=key_for(tree.user("c1_admin"))).send(
            "put", url(tree.c1, "domains"), data).status_code == 403
        assert set(tree.c1.domains.values_list("domain", flat=True)) == {"c1.example.net", "c1.localhost"}
