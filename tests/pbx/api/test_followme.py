"""An extension's follow-me through the API (pbx/api/views/followme.py): replaced as a
whole, read back, removed; the attacker's view of it."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from pbx.actions import do_create_moh_group, do_create_schedule, do_set_follow_me
from pbx.models import FollowMe, FollowMeStep
from tenants.models import Account, AuditEvent
from tests.conftest import Browser, Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, host_of, key_for

MISSING_ID = 987654


def url(account: Account | int, extension_id: int) -> str:
    return accounts_url(account, "extensions", extension_id, "follow-me")


def stored(account: Account) -> list[tuple[int, bool, bool, list[tuple[int, list[str]]]]]:
    """Every follow-me of the account, as rows: what a refused write must leave alone."""
    with schema_context(account.schema_name):
        return [(f.extension_id, f.enabled, f.record_name,
                 [(s.ring_seconds, [t.destination for t in s.targets.all()]) for s in f.steps.all()])
                for f in FollowMe.objects.order_by("pk")]


def events() -> int:
    return AuditEvent.objects.filter(action__startswith="follow_me.").count()


class TestFollowMeApi:
    covered_routes = ("follow-me",)

    def body_for(self, account: Account) -> dict[str, Any]:
        alice = extension(account, "1001")
        return {"enabled": True, "record_name": True, "offer_voicemail": False, "ignore_busy": True,
                "active_hours": None, "moh_group": None, "fallback": "",
                "steps": [{"ring_seconds": 25, "confirm": False,
                           "targets": [ref(alice), "external:+12125550100"]},
                          {"ring_seconds": 30, "confirm": True, "targets": ["external:+12125550101"]}]}

    def victim(self, account: Account):
        alice = extension(account, "1001")
        do_set_follow_me(account, alice, steps=[{"targets": ["external:+12125550100"]}])
        return alice

    def calls(self, account: Account, extension_id: int):
        yield "get", url(account, extension_id), None
        yield "put", url(account, extension_id), {"enabled": False, "steps": []}
        yield "delete", url(account, extension_id), None

    def test_set_read_replace_and_remove_as_an_ancestors_admin(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        wanted = self.body_for(tree.c1)
        alice_id = int(wanted["steps"][0]["targets"][0].split(":")[1])
        assert api.send("get", url(tree.c1, alice_id)).status_code == 404  # none yet
        put = api.send("put", url(tree.c1, alice_id), wanted)
        assert put.status_code == 200, body(put)
        assert body(put) == {**wanted, "extension": alice_id}
        assert body(api.send("get", url(tree.c1, alice_id))) == body(put)
        event = AuditEvent.objects.filter(action="follow_me.set").latest("id")
        assert (event.account_id, event.actor_id, event.ip) == (tree.c1.pk, admin.pk, "127.0.0.1")
        assert event.details["steps"] == [s["targets"] for s in wanted["steps"]]

        with schema_context(tree.c1.schema_name):
            hours = do_create_schedule(tree.c1, name="Office hours")
            music = do_create_moh_group(tree.c1, name="Jazz")
        again = api.send("put", url(tree.c1, alice_id), {
            "enabled": True, "active_hours": hours.pk, "moh_group": music.pk, "fallback": "hangup",
            "steps": [{"targets": ["external:+12125550102"]}]})
        assert again.status_code == 200, body(again)
        assert (body(again)["active_hours"], body(again)["moh_group"]) == (hours.pk, music.pk)
        assert body(again)["steps"] == [{"ring_seconds": 20, "confirm": True,
                                         "targets": ["external:+12125550102"]}]
        assert stored(tree.c1)[0][3] == [(20, ["external:+12125550102"])]

        removed = api.send("delete", url(tree.c1, alice_id))
        assert removed.status_code == 204
        assert stored(tree.c1) == []
        with schema_context(tree.c1.schema_name):
            assert not FollowMeStep.objects.exists()
        event = AuditEvent.objects.filter(action="follow_me.delete").latest("id")
        assert (event.actor_id, event.ip, event.details) == (admin.pk, "127.0.0.1", {"extension": "1001"})
        assert api.send("get", url(tree.c1, alice_id)).status_code == 404
        assert api.send("delete", url(tree.c1, alice_id)).status_code == 404

    def test_targets_and_references_are_field_errors_and_change_nothing(self, tree: Tree):
        alice = self.victim(tree.c1)
        theirs = do_create_moh_group(tree.c2, name="Theirs")
        before = stored(tree.c1)
        api = Api(token=key_for(tree.user("c1_admin")))
        for data, field in [
            ({"steps": [{"targets": ["voicemail"]}]}, "steps"),
            ({"steps": [{"targets": []}]}, "steps"),
            ({"steps": [{"ring_seconds": 2, "targets": ["external:+12125550100"]}]}, "steps"),
            ({"steps": [{"targets": ["external:+18765550100"]}]}, "steps"),  # Jamaica: not domestic
            ({"enabled": True, "steps": []}, "steps"),
            ({"fallback": f"extension:{alice.pk}", "steps": [{"targets": ["external:+12125550100"]}]},
             "fallback"),
            ({"moh_group": theirs.pk + 1000, "steps": [{"targets": ["external:+12125550100"]}]}, "moh_group"),
        ]:
            refused = api.send("put", url(tree.c1, alice.pk), data)
            assert refused.status_code == 400, (data, body(refused))
            assert field in body(refused), (data, body(refused))
        assert stored(tree.c1) == before

    def test_read_only_keys_and_users_read_but_write_nothing(self, tree: Tree):
        alice = self.victim(tree.c1)
        before, count = stored(tree.c1), events()
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            api = Api(token=token)
            assert api.send("get", url(tree.c1, alice.pk)).status_code == 200
            for method, target, data in list(self.calls(tree.c1, alice.pk))[1:]:
                assert api.send(method, target, data).status_code == 403, (method, target)
            # A missing extension is still a 404 for them.
            assert api.send("put", url(tree.c1, MISSING_ID), {"steps": []}).status_code == 404
        assert (stored(tree.c1), events()) == (before, count)

    def test_nobody_without_credentials_and_other_tenants_sessions_are_401(self, tree: Tree):
        alice = self.victim(tree.c1)
        before = stored(tree.c1)
        c2_admin = tree.user("c2_admin")
        replayed = Api(host=host_of(tree.c1))
        replayed.cookies = Browser(host_of(tree.c2)).login_as(c2_admin).cookies
        for api in (Api(), Api(host=host_of(tree.c1)), Api(host=host_of(tree.c1), token=key_for(c2_admin)),
                    replayed):
            for method, target, data in self.calls(tree.c1, alice.pk):
                assert api.send(method, target, data).status_code == 401, (method, target)
        assert stored(tree.c1) == before

    def test_other_tenants_extensions_are_404_like_missing_ones(self, tree: Tree):
        alice = self.victim(tree.c1)
        r1_alice = self.victim(tree.r1)
        before, count = (stored(tree.c1), stored(tree.r1)), events()
        missing = Api(token=key_for(tree.user("c2_admin"))).send("get", url(tree.c2, MISSING_ID))
        assert missing.status_code == 404
        cases = [(tree.user("c2_admin"), tree.c1, alice.pk),
                 # Its own path with C1's extension id: looked up among C2's rows.
                 (tree.user("c2_admin"), tree.c2, alice.pk),
                 (tree.user("r2_admin"), tree.c1, alice.pk),  # a sibling reseller
                 (tree.user("r2_admin"), tree.r1, r1_alice.pk),
                 (tree.user("c1_admin"), tree.r1, r1_alice.pk)]  # a customer on its parent's path
        for user, account, pk in cases:
            api = Api(token=key_for(user))
            for method, target, data in self.calls(account, pk):
                refused = api.send(method, target, data)
                assert (refused.status_code, body(refused)) == (404, body(missing)), (user.username, method,
                                                                                      target)
        assert ((stored(tree.c1), stored(tree.r1)), events()) == (before, count)
