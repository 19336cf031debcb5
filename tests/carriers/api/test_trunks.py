"""Trunks and gateways through the API (carriers/api/views/trunks.py): for the master's
and resellers' staff as in the admin, written by carriers.actions, gateway passwords
write-only; the attacker's view from the generated tests and from customers."""

from __future__ import annotations

from typing import Any

from carriers.actions import do_create_trunk
from carriers.models import Gateway, Trunk
from common.secrets import decrypt_secret
from tenants.models import Account, AuditEvent, User
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests

GATEWAY = {"server": "sip.carrier.example.com", "port": 5060, "transport": "udp"}


def gateways(trunk_id: int) -> list[dict[str, Any]]:
    return list(Gateway.objects.filter(trunk_id=trunk_id).order_by("pk").values())


class TestTrunksApi(ObjectApiTests):
    basename = "trunk"
    extra_routes = ("trunk-gateways", "trunk-gateway")
    path = "trunks"
    model = Trunk
    audit_name = "trunk"
    # Only an account above C1 writes C1's trunks.
    writer = "r1_admin"
    # Trunks are for the staff who use the admin: a call-center supervisor does not.
    supervisor_reads = False
    create_data = {"name": "Carrier", "rules": [r"^\+(1\d{10})$"], "weight_cost": 10,
                   "gateways": [{**GATEWAY, "username": "acct1", "password": "s3cret-pass",
                                 "register": True}]}
    update_data = {"name": "Carrier B", "weight_cost": 20, "enabled": False}
    invalid_data = {"rules": [r"^\+(44"]}
    invalid_field = "rules"
    list_queries = 9

    def make(self, account: Account, index: int) -> Trunk:
        return do_create_trunk(User.objects.get(username="master_admin"), account, name=f"Trunk {index}",
                               gateways=[GATEWAY])

    def test_a_gateway_password_is_written_never_shown(self, tree: Tree):
        api = Api(token=key_for(tree.user("r1_admin")))
        created = api.send("post", self.list_url(tree.c1), self.payload(tree.c1))
        assert created.status_code == 201, body(created)
        gateway = body(created)["gateways"][0]
        assert gateway["has_password"] is True and "password" not in gateway
        assert "s3cret-pass" not in created.content.decode()
        stored = Gateway.objects.get(pk=gateway["id"])
        assert decrypt_secret(stored.password_encrypted) == "s3cret-pass"
        url = accounts_url(tree.c1, self.path, body(created)["id"], "gateways", gateway["id"])
        kept = api.send("patch", url, {"port": 5080})
        assert kept.status_code == 200 and body(kept)["port"] == 5080 and body(kept)["has_password"]
        assert decrypt_secret(Gateway.objects.get(pk=gateway["id"]).password_encrypted) == "s3cret-pass"
        assert "s3cret-pass" not in api.send("get", url).content.decode()

    def test_gateways_are_added_changed_and_removed_but_one_stays(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        trunk = self.make(tree.c1, 1)
        base = accounts_url(tree.c1, self.path, trunk.pk, "gateways")
        added = api.send("post", base, {"server": "203.0.113.9", "transport": "tcp",
                                        "codecs": ["PCMA", "G722"]})
        assert added.status_code == 201, body(added)
        event = AuditEvent.objects.filter(action="gateway.create").latest("id")
        assert (event.account_id, event.actor_id, event.ip) == (tree.c1.pk, admin.pk, "127.0.0.1")
        assert [g["server"] for g in body(api.send("get", base))] == ["sip.carrier.example.com",
                                                                      "203.0.113.9"]
        bad = api.send("patch", f"{base}{body(added)['id']}/", {"register": True})
        assert bad.status_code == 400 and "register" in body(bad)
        first = body(api.send("get", base))[0]["id"]
        assert api.send("delete", f"{base}{first}/").status_code == 204
        last = api.send("delete", f"{base}{body(added)['id']}/")
        assert last.status_code == 400 and "gateway" in body(last)
        assert [g["server"] for g in gateways(trunk.pk)] == ["203.0.113.9"]

    def test_customers_see_no_trunks_not_even_their_own(self, tree: Tree):
        trunk = self.make(tree.c1, 1)
        before = (list(Trunk.objects.values()), gateways(trunk.pk))
        missing = Api(token=key_for(tree.user("c1_admin"))).send("get", self.detail_url(999999, 1))
        api = Api(token=key_for(tree.user("c1_admin")))
        for method, url, data in [
            ("get", self.list_url(tree.c1), None), ("get", self.detail_url(tree.c1, trunk.pk), None),
            ("post", self.list_url(tree.c1), self.create_data),
            ("patch", self.detail_url(tree.c1, trunk.pk), self.update_data),
            ("delete", self.detail_url(tree.c1, trunk.pk), None),
            ("get", accounts_url(tree.c1, self.path, trunk.pk, "gateways"), None),
            ("post", accounts_url(tree.c1, self.path, trunk.pk, "gateways"), GATEWAY),
        ]:
            refused = api.send(method, url, data)
            assert (refused.status_code, body(refused)) == (404, body(missing)), (method, url)
        assert (list(Trunk.objects.values()), gateways(trunk.pk)) == before

    def test_a_reseller_manages_below_it_not_its_own_and_not_its_siblings(self, tree: Tree):
        own = do_create_trunk(tree.user("master_admin"), tree.r1, name="R1 carrier", gateways=[GATEWAY])
        theirs = do_create_trunk(tree.user("master_admin"), tree.r2, name="R2 carrier", gateways=[GATEWAY])
        api = Api(token=key_for(tree.user("r1_admin")))
        # Its own account's trunks: read, not written (the provider manages them).
        assert api.send("get", self.detail_url(tree.r1, own.pk)).status_code == 200
        assert api.send("patch", self.detail_url(tree.r1, own.pk), {"name": "Mine now"}).status_code == 403
        assert api.send("post", self.list_url(tree.r1), self.create_data).status_code == 403
        # A sibling's trunk id under its own path: not there.
        for method in ("get", "patch", "delete"):
            assert api.send(method, self.detail_url(tree.r1, theirs.pk), {"name": "x"}).status_code == 404
        assert Trunk.objects.get(pk=own.pk).name == "R1 carrier"
        assert Trunk.objects.get(pk=theirs.pk).name == "R2 carrier"
        # The master writes the platform's own trunks.
        master = Api(token=key_for(tree.user("master_admin")))
        made = master.send("post", self.list_url(tree.master), self.create_data)
        assert made.status_code == 201 and body(made)["account"] == tree.master.pk


class TestTrunkSourceApi:
    covered_routes = ("trunk-source",)

    def test_an_ancestors_admin_switches_an_account_to_its_own_trunks_and_back(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        url = accounts_url(tree.c1, "trunk-source")
        assert body(api.send("get", url)) == {"source": "parent"}
        local = api.send("put", url, {"source": "local"})
        assert (local.status_code, body(local)) == (200, {"source": "local"})
        assert Account.objects.get(pk=tree.c1.pk).trunk_source == "local"
        event = AuditEvent.objects.filter(action="account.trunk_source").latest("id")
        assert (event.account_id, event.actor_id, event.ip) == (tree.c1.pk, admin.pk, "127.0.0.1")
        assert body(api.send("put", url, {"source": "parent"})) == {"source": "parent"}
        assert api.send("put", url, {"source": "elsewhere"}).status_code == 400

    def test_nobody_sets_their_own_the_masters_or_from_outside(self, tree: Tree):
        before = list(Account.objects.order_by("pk").values_list("trunk_source", flat=True))
        cases = [("r1_admin", tree.r1, 403),  # its own account: the provider decides
                 ("master_admin", tree.master, 400),  # the platform's trunks are the master's own
                 ("r1_readonly", tree.c1, 403), ("r1_activation", tree.c1, 403),
                 ("r2_admin", tree.c1, 404), ("c1_admin", tree.c1, 404), ("c1_admin", tree.r1, 404),
                 ("c1a_admin", tree.c1, 404)]
        for username, account, expected in cases:
            refused = Api(token=key_for(tree.user(username))).send(
                "put", accounts_url(account, "trunk-source"), {"source": "local"})
            assert refused.status_code == expected, (username, account.name, body(refused))
        assert Api(token=key_for(tree.user("c1_admin"))).send(
            "get", accounts_url(tree.c1, "trunk-source")).status_code == 404
        assert list(Account.objects.order_by("pk").values_list("trunk_source", flat=True)) == before
