"""The audit log through the API (tenants/api/views/audit.py): an account's subtree by
its tree path, filters, provider staff unnamed below them, cursor pages whose cost does
not grow with depth, and the attacker's view."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.actions import record
from tenants.models import Account, AuditEvent
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for


def url(account: Account | int, *rest) -> str:
    return accounts_url(account, "audit-events", *rest)


def seed(tree: Tree) -> dict[str, AuditEvent]:
    """One event of each account, made by its own admin from its own address."""
    made = {}
    for name in ("master", "r1", "c1", "r1a", "c1a", "r2", "c2", "c0"):
        account = getattr(tree, name)
        actor = tree.user(f"{name}_admin")
        made[name] = record(actor, account, "test.thing", f"192.0.2.{account.pk % 250}",
                            name=f"thing of {name}")
    return made


def actions(response) -> list[tuple[str, str]]:
    return [(e["account_name"], e["details"].get("name", "")) for e in body(response)["results"]]


def own(response) -> list[str]:
    """The seeded events of a page, by their account's name."""
    return [e["account_name"] for e in body(response)["results"] if e["action"] == "test.thing"]


class TestAuditEventsApi:
    query_counted_routes = ("audit-event-list",)
    covered_routes = ("audit-event-list", "audit-event-detail")

    def test_a_reseller_reads_its_subtree_newest_first_and_nothing_else(self, tree: Tree):
        made = seed(tree)
        api = Api(token=key_for(tree.user("r1_admin")))
        listed = api.send("get", url(tree.r1) + "?action=test.thing")
        assert listed.status_code == 200
        assert own(listed) == ["C1A", "R1A", "C1", "R1"]
        assert own(api.send("get", url(tree.r1a) + "?action=test.thing")) == ["C1A", "R1A"]
        assert own(api.send("get", url(tree.c1) + "?action=test.thing")) == ["C1"]
        event = body(api.send("get", url(tree.c1, made["c1"].pk)))
        assert (event["actor"], event["ip"], event["account"], event["details"]) == (
            "c1_admin", made["c1"].ip, tree.c1.pk, {"name": "thing of c1"})
        # Everything of the subtree, not only the seeded ones (the tree's own making).
        page = body(api.send("get", url(tree.r1) + "?page_size=500"))
        everything = {e["account_name"] for e in page["results"]}
        assert everything <= {"R1", "C1", "R1A", "C1A"}
        master = Api(token=key_for(tree.user("master_admin")))
        assert own(master.send("get", url(tree.master) + "?action=test.thing")) == [
            "C0", "C2", "R2", "C1A", "R1A", "C1", "R1", "Provider"]

    def test_provider_staff_are_unnamed_below_them(self, tree: Tree):
        did = record(tree.user("r1_admin"), tree.c1, "test.thing", "198.51.100.7", name="by the reseller")
        mine = record(tree.user("c1_admin"), tree.c1, "test.thing", "198.51.100.8", name="by myself")
        customer = Api(token=key_for(tree.user("c1_admin")))
        shown = body(customer.send("get", url(tree.c1, did.pk)))
        assert (shown["actor"], shown["ip"]) == ("provider staff", None)
        assert "r1_admin" not in str(body(customer.send("get", url(tree.c1) + "?page_size=500")))
        assert body(customer.send("get", url(tree.c1) + "?actor=r1_admin"))["results"] == []
        by_me = body(customer.send("get", url(tree.c1) + "?actor=c1_admin&action=test.thing"))["results"]
        assert [e["id"] for e in by_me] == [mine.pk]
        reseller = body(Api(token=key_for(tree.user("r1_admin"))).send("get", url(tree.c1, did.pk)))
        assert (reseller["actor"], reseller["ip"]) == ("r1_admin", "198.51.100.7")

    def test_filters_by_action_actor_account_object_and_time(self, tree: Tree):
        made = seed(tree)
        record(tree.user("c1_admin"), tree.c1, "test.other", None, number="1001")
        api = Api(token=key_for(tree.user("r1_admin")))

        def names(query: str) -> list[tuple[str, str]]:
            response = api.send("get", url(tree.r1) + "?" + query)
            assert response.status_code == 200, body(response)
            return actions(response)

        assert names("action=test.") == [("C1", ""), ("C1A", "thing of c1a"), ("R1A", "thing of r1a"),
                                         ("C1", "thing of c1"), ("R1", "thing of r1")]
        assert names("action=test.other") == [("C1", "")]
        assert names("action=test.&actor=r1a_admin") == [("R1A", "thing of r1a")]
        assert names(f"action=test.&account={tree.c1.pk}") == [("C1", ""), ("C1", "thing of c1")]
        assert names("object=thing of c1a") == [("C1A", "thing of c1a")]
        assert names("object=1001&action=test.") == [("C1", "")]
        AuditEvent.objects.filter(pk=made["c1"].pk).update(at=timezone.now() - timedelta(days=3))
        since = (timezone.now() - timedelta(days=1)).isoformat()
        until = (timezone.now() - timedelta(days=2)).isoformat()
        assert ("C1", "thing of c1") not in names("action=test.thing&since=" + since.replace("+", "%2B"))
        assert names("action=test.thing&until=" + until.replace("+", "%2B")) == [("C1", "thing of c1")]
        assert api.send("get", url(tree.r1) + "?since=yesterday").status_code == 400
        beyond = api.send("get", url(tree.r1) + "?since=9999-12-31T23:59:59-23:00")  # year 10000 in UTC
        assert (beyond.status_code, body(beyond)) == (400, {"since": ["This time is out of range."]})
        # Another subtree's account as a filter finds nothing, like one that does not exist.
        assert names(f"account={tree.c2.pk}") == []

    def test_cursor_pages_cover_everything_once_and_cost_the_same_deep_down(self, tree: Tree):
        for n in range(12):
            record(tree.user("c1_admin"), tree.c1, "test.page", None, n=n)
        api = Api(token=key_for(tree.user("c1_admin")))
        api.send("get", url(tree.c1))  # the key's first use also records it
        seen, counts, link = [], [], url(tree.c1) + "?action=test.page&page_size=5"
        while link:
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", link)
            assert page.status_code == 200
            counts.append(len(queries))
            seen += [e["details"]["n"] for e in body(page)["results"]]
            link = body(page)["next"] and urlsplit(body(page)["next"])._replace(scheme="", netloc="").geturl()
        assert seen == list(range(11, -1, -1))
        assert "count" not in body(page)
        assert len(set(counts)) == 1, counts

    def test_outside_reach_is_404_and_nobody_without_credentials_gets_in(self, tree: Tree):
        made = seed(tree)
        missing = Api(token=key_for(tree.user("r2_admin"))).send("get", url(999999))
        for username, account, event in [
            ("r2_admin", tree.c1, made["c1"]),  # a sibling reseller
            ("r2_admin", tree.r1, made["r1"]),
            ("c1_admin", tree.r1, made["r1"]),  # a customer on its parent's path
            ("c1a_admin", tree.c1, made["c1"]),  # a cousin
        ]:
            api = Api(token=key_for(tree.user(username)))
            for target in (url(account), url(account, event.pk)):
                refused = api.send("get", target)
                assert (refused.status_code, body(refused)) == (404, body(missing)), (username, target)
        # Another subtree's event id under one's own path: not there.
        r2 = Api(token=key_for(tree.user("r2_admin")))
        assert r2.send("get", url(tree.r2, made["c1"].pk)).status_code == 404
        assert r2.send("get", url(tree.r2, made["master"].pk)).status_code == 404
        assert Api(token=key_for(tree.user("r1_readonly"))).send("get", url(tree.c1)).status_code == 200
        assert Api().send("get", url(tree.c1)).status_code == 401
        assert Api(token=key_for(tree.user("r1_admin"))).send("post", url(tree.c1), {}).status_code == 405
