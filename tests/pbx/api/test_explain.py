"""The route explainer through the API (pbx/api/views/explain.py): the same hops as the
portal's page, as JSON; every role may ask; another tenant's account is 404."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pbx.actions import do_create_ring_group, do_set_ring_group_members, do_update_extension
from pbx.explain import explain_route
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, key_for


def explain(api: Api, account, **query) -> object:
    return api.get(accounts_url(account, "explain"), query)


class TestExplainApi:
    covered_routes = ("explain",)

    def test_each_hop_as_the_explainer_gives_it(self, tree: Tree):
        alice = extension(tree.c1, "1001", "Alice")
        bob = extension(tree.c1, "1002", "Bob")
        do_update_extension(tree.c1, bob, forward_busy=True, forward_busy_to=ref(alice))
        group = do_create_ring_group(tree.c1, number="2000", name="Sales")
        do_set_ring_group_members(tree.c1, group, [(ref(bob), None, True)])
        api = Api(token=key_for(tree.user("r1_readonly")))  # reading: every role may
        answer = explain(api, tree.c1, **{"from": "1001", "to": "1002"})
        assert answer.status_code == 200, body(answer)
        shown = body(answer)
        assert (shown["from"], shown["to"]) == ("1001", "1002")
        expected = explain_route(tree.c1, "1001", "1002")
        assert [(h["depth"], h["rule"], h["text"]) for h in shown["hops"]] == [
            (d.depth, d.rule, d.text) for d in expected]
        assert shown["hops"][0] == {"depth": 0, "rule": "caller", "text": expected[0].text, "outcome": None,
                                    "destination": None, "detail": []}
        assert "ring" in [h["outcome"] for h in shown["hops"]]
        # Bob's busy forward is a branch ("if busy: ..."), below it the hop on to Alice.
        shape = [(h["depth"], h["rule"], h["outcome"], h["destination"]) for h in shown["hops"]]
        assert (1, "if_busy", None, None) in shape and (2, "goto", "go_to", ref(alice)) in shape, shape

    def test_a_number_from_outside_goes_to_its_route(self, tree: Tree):
        group = do_create_ring_group(tree.c1, number="2000", name="Sales")
        [number] = do_import_numbers(tree.user("master_admin"), ["+14165550123"])
        do_assign_number(tree.user("master_admin"), number, tree.r1)
        number = do_assign_number(tree.user("r1_admin"), number, tree.c1)
        do_route_number(tree.c1, number, route=ref(group), actor=tree.user("c1_admin"))
        shown = body(explain(Api(token=key_for(tree.user("c1_admin"))), tree.c1,
                             **{"from": "+12125550100", "to": "+14165550123"}))
        go = [h for h in shown["hops"] if h["outcome"] == "go_to"]
        assert go and go[0]["destination"] == ref(group)

    def test_at_without_an_offset_is_the_accounts_time(self, tree: Tree):
        tree.c1.timezone = "America/Toronto"
        tree.c1.save(update_fields=["timezone"])
        extension(tree.c1, "1001")
        api = Api(token=key_for(tree.user("c1_admin")))
        naive = body(explain(api, tree.c1, to="1001", at="2026-07-01T09:30"))
        toronto = ZoneInfo("America/Toronto")
        assert datetime.fromisoformat(naive["at"]) == datetime(2026, 7, 1, 9, 30, tzinfo=toronto)
        utc = body(explain(api, tree.c1, to="1001", at="2026-07-01T09:30:00Z"))
        assert datetime.fromisoformat(utc["at"]) == datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("UTC"))

    def test_a_question_without_to_or_with_a_bad_time_is_400(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        missing = explain(api, tree.c1, **{"from": "1001"})
        assert missing.status_code == 400 and "to" in body(missing)
        bad = explain(api, tree.c1, to="1001", at="tomorrow")
        assert bad.status_code == 400 and "at" in body(bad)

    def test_another_tenants_account_is_404_and_the_master_has_no_routes(self, tree: Tree):
        extension(tree.c1, "1001")
        for user, account in (("c2_admin", tree.c1), ("r2_admin", tree.c1), ("c1_admin", tree.r1)):
            refused = explain(Api(token=key_for(tree.user(user))), account, to="1001")
            assert refused.status_code == 404 and body(refused) == {"detail": "Not found."}, user
        master = explain(Api(token=key_for(tree.user("master_admin"))), tree.master, to="1001")
        assert master.status_code == 404
        assert explain(Api(), tree.c1, to="1001").status_code == 401
