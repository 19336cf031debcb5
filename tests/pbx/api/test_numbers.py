"""Phone numbers through the API (pbx/api/views/numbers.py): import into the pool (the
master), hand down one step, route by the holder, release one step up; every write
audited with the address, read-only refused, other tenants' numbers absent."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pbx.numbers import do_assign_number, do_import_numbers
from tenants.models import AuditEvent, PhoneNumber
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, key_for


def pool(tree: Tree, *numbers: str) -> list[PhoneNumber]:
    return do_import_numbers(tree.user("master_admin"), numbers)


def held_by_c1(tree: Tree, e164: str = "+14165550100") -> PhoneNumber:
    (number,) = pool(tree, e164)
    do_assign_number(tree.user("master_admin"), number, tree.r1)
    return do_assign_number(tree.user("r1_admin"), number, tree.c1)


def e164s(response) -> list[str]:
    return [item["e164"] for item in body(response)["results"]]


class TestPhoneNumbersApi:
    query_counted_routes = ("phone-number-list",)
    covered_routes = ("phone-number-list", "phone-number-detail", "phone-number-import-numbers",
                      "phone-number-assign", "phone-number-release")

    def test_the_master_imports_and_hands_numbers_down_step_by_step(self, tree: Tree):
        master = Api(token=key_for(tree.user("master_admin")))
        imported = master.send("post", accounts_url(tree.master, "phone-numbers", "import"),
                               {"numbers": ["+14165550100", "4165550101"]})
        assert imported.status_code == 201, body(imported)
        assert [n["e164"] for n in body(imported)] == ["+14165550100", "+14165550101"]
        assert e164s(master.send("get", accounts_url(tree.master, "phone-numbers"))) == [
            "+14165550100", "+14165550101"]
        first = body(imported)[0]["id"]
        skipped = master.send("post", accounts_url(tree.master, "phone-numbers", first, "assign"),
                              {"account": tree.c1.pk})
        assert skipped.status_code == 400 and "account" in body(skipped)
        assigned = master.send("post", accounts_url(tree.master, "phone-numbers", first, "assign"),
                               {"account": tree.r1.pk})
        assert assigned.status_code == 200 and body(assigned)["account"] == tree.r1.pk
        reseller = Api(token=key_for(tree.user("r1_admin")))
        assert e164s(reseller.send("get", accounts_url(tree.r1, "phone-numbers"))) == ["+14165550100"]
        given = reseller.send("post", accounts_url(tree.r1, "phone-numbers", first, "assign"),
                              {"account": tree.c1.pk})
        assert given.status_code == 200 and body(given)["account"] == tree.c1.pk
        event = AuditEvent.objects.filter(action="number.assign").order_by("-id").first()
        assert (event.actor, event.account, event.ip) == (tree.user("r1_admin"), tree.c1, "127.0.0.1")

    def test_the_holder_routes_and_sets_options(self, tree: Tree):
        number = held_by_c1(tree)
        alice = extension(tree.c1, "1001")
        api = Api(token=key_for(tree.user("c1_admin")))
        url = accounts_url(tree.c1, "phone-numbers", number.pk)
        changed = api.send("patch", url, {"route": ref(alice), "caller_id_name": "Main line",
                                          "privacy_screening": True})
        assert changed.status_code == 200, body(changed)
        shown = body(changed)
        assert (shown["route"], shown["caller_id_name"], shown["privacy_screening"]) == (
            ref(alice), "Main line", True)
        missing = api.send("patch", url, {"route": "extension:999"})
        assert missing.status_code == 400 and "route" in body(missing)
        assert PhoneNumber.objects.get(pk=number.pk).route == ref(alice)
        assert AuditEvent.objects.filter(action="number.route", ip="127.0.0.1").exists()

    def test_release_goes_one_step_up_and_clears_the_route(self, tree: Tree):
        number = held_by_c1(tree)
        api = Api(token=key_for(tree.user("r1_admin")))
        released = api.send("post", accounts_url(tree.c1, "phone-numbers", number.pk, "release"))
        assert released.status_code == 200 and body(released)["account"] == tree.r1.pk
        assert api.send("get", accounts_url(tree.c1, "phone-numbers", number.pk)).status_code == 404

    def test_other_tenants_numbers_are_absent_and_read_only_changes_nothing(self, tree: Tree):
        number = held_by_c1(tree)
        url = accounts_url(tree.c1, "phone-numbers", number.pk)
        outsider = Api(token=key_for(tree.user("c2_admin")))
        for method, path, data in (("get", url, None), ("patch", url, {"route": "hangup"}),
                                   ("post", f"{url}release/", None)):
            assert outsider.send(method, path, data).status_code == 404
        # C2's own path with C1's number: not among C2's numbers.
        assert outsider.send("get", accounts_url(tree.c2, "phone-numbers", number.pk)).status_code == 404
        readonly = Api(token=key_for(tree.user("r1_readonly")))
        assert readonly.send("get", url).status_code == 200
        for method, path, data in (("patch", url, {"route": "hangup"}), ("post", f"{url}release/", None),
                                   ("post", f"{url}assign/", {"account": tree.c1.pk})):
            assert readonly.send(method, path, data).status_code == 403
        # Importing is the master's; on any other path there is nothing to import into.
        assert Api(token=key_for(tree.user("r1_admin"))).send(
            "post", accounts_url(tree.r1, "phone-numbers", "import"), {"numbers": ["+14165550199"]}
        ).status_code == 404
        fresh = PhoneNumber.objects.get(pk=number.pk)
        assert (fresh.account_id, fresh.route) == (tree.c1.pk, "")
        assert not PhoneNumber.objects.filter(e164="+14165550199").exists()

    def test_a_list_page_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        numbers = pool(tree, *[f"+1416555{n:04d}" for n in range(4)])
        for number in numbers:
            do_assign_number(tree.user("master_admin"), number, tree.c0)
        api = Api(token=key_for(tree.user("c0_admin")))
        api.send("get", accounts_url(tree.c0, "phone-numbers"))
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"{accounts_url(tree.c0, 'phone-numbers')}?page_size={size}")
            assert len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts == [8, 8], counts
