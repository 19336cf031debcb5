"""The account tree's structure through the API (tenants/api/views/accounts.py): restore
a deleted account, promote and demote a reseller, move an account under another parent;
all the master's alone (tenants.actions), and the attacker's view of each."""

from __future__ import annotations

from tenants.actions import do_soft_delete_account
from tenants.models import Account, AuditEvent
from tests.conftest import Tree
from tests.switchboard.api.client import Api, body, key_for

ACCOUNTS = "/api/v1/accounts/"


def url(account: Account | int, *rest: str) -> str:
    pk = account.pk if isinstance(account, Account) else account
    return "/".join([ACCOUNTS.rstrip("/"), str(pk), *rest]) + "/"


def shape() -> list[tuple]:
    """The whole tree as stored: what a refused call must leave exactly as it was."""
    return list(Account.objects.order_by("pk").values_list("pk", "path", "kind", "deleted_at"))


def events() -> int:
    return AuditEvent.objects.filter(action__startswith="account.").count()


class TestAccountStructureApi:
    covered_routes = ("account-restore", "account-promote", "account-demote", "account-move",
                      "account-deleted")

    def test_the_master_lists_deleted_accounts_and_nobody_else_sees_them(self, tree: Tree):
        master = tree.user("master_admin")
        do_soft_delete_account(master, tree.c0)
        do_soft_delete_account(tree.user("r1_admin"), tree.c1)
        api = Api(token=key_for(master))
        listed = api.send("get", url(tree.master, "deleted"))
        assert listed.status_code == 200
        assert [a["name"] for a in body(listed)["results"]] == ["C1", "C0"]
        assert body(listed)["results"][0]["parent"] == tree.r1.pk
        assert [a["name"] for a in body(api.send("get", url(tree.r1, "deleted")))["results"]] == ["C1"]
        reseller = Api(token=key_for(tree.user("r1_admin"))).send("get", url(tree.r1, "deleted"))
        assert (reseller.status_code, body(reseller)["results"]) == (200, [])
        sibling = Api(token=key_for(tree.user("r2_admin"))).send("get", url(tree.r1, "deleted"))
        assert sibling.status_code == 404

    def test_the_master_restores_a_deleted_account(self, tree: Tree):
        master = tree.user("master_admin")
        do_soft_delete_account(master, tree.c0)
        api = Api(token=key_for(master))
        assert api.send("get", url(tree.c0)).status_code == 404  # absent while deleted
        restored = api.send("post", url(tree.c0, "restore"))
        assert restored.status_code == 200, body(restored)
        assert (body(restored)["id"], body(restored)["parent"]) == (tree.c0.pk, tree.master.pk)
        assert not Account.objects.get(pk=tree.c0.pk).is_deleted
        assert api.send("get", url(tree.c0)).status_code == 200
        event = AuditEvent.objects.filter(action="account.restore").latest("id")
        assert (event.account_id, event.actor_id, event.ip) == (tree.c0.pk, master.pk, "127.0.0.1")
        # A live account is left as it is.
        assert api.send("post", url(tree.c0, "restore")).status_code == 200

    def test_a_child_of_a_deleted_parent_waits_for_its_parent(self, tree: Tree):
        master = tree.user("master_admin")
        do_soft_delete_account(master, tree.c1a)
        do_soft_delete_account(master, tree.r1a)
        api = Api(token=key_for(master))
        refused = api.send("post", url(tree.c1a, "restore"))
        assert refused.status_code == 400 and "R1A" in body(refused)["account"][0]
        assert api.send("post", url(tree.r1a, "restore")).status_code == 200
        assert api.send("post", url(tree.c1a, "restore")).status_code == 200

    def test_a_deleted_account_is_absent_for_its_reseller_and_resellers_restore_nothing(self, tree: Tree):
        master = tree.user("master_admin")
        do_soft_delete_account(master, tree.c1)
        before, count = shape(), events()
        api = Api(token=key_for(tree.user("r1_admin")))
        missing = api.send("post", url(999999, "restore"))
        refused = api.send("post", url(tree.c1, "restore"))
        assert (refused.status_code, body(refused)) == (404, body(missing))
        # A live one it reaches: the action says the master's alone.
        assert api.send("post", url(tree.c1a, "restore")).status_code == 403
        assert (shape(), events()) == (before, count)

    def test_the_master_promotes_and_demotes(self, tree: Tree):
        api = Api(token=key_for(tree.user("master_admin")))
        promoted = api.send("post", url(tree.c0, "promote"))
        assert promoted.status_code == 200 and body(promoted)["kind"] == "reseller"
        again = api.send("post", url(tree.c0, "promote"))
        assert again.status_code == 400 and "kind" in body(again)
        demoted = api.send("post", url(tree.c0, "demote"))
        assert demoted.status_code == 200 and body(demoted)["kind"] == "customer"
        # A reseller with sub-accounts stays one.
        refused = api.send("post", url(tree.r1a, "demote"))
        assert refused.status_code == 400 and "sub-account" in body(refused)["kind"][0]
        assert Account.objects.get(pk=tree.r1a.pk).kind == "reseller"
        assert [e.action for e in AuditEvent.objects.filter(account=tree.c0).order_by("id")][-2:] == [
            "account.promote", "account.demote"]

    def test_the_master_moves_an_account_with_its_subtree(self, tree: Tree):
        master = tree.user("master_admin")
        api = Api(token=key_for(master))
        moved = api.send("post", url(tree.r1a, "move"), {"parent": tree.r2.pk})
        assert moved.status_code == 200, body(moved)
        assert body(moved)["parent"] == tree.r2.pk
        r1a, c1a = Account.objects.get(pk=tree.r1a.pk), Account.objects.get(pk=tree.c1a.pk)
        assert r1a.is_within(tree.r2) and c1a.is_within(r1a)
        event = AuditEvent.objects.filter(action="account.move").latest("id")
        assert (event.actor_id, event.ip, event.details) == (
            master.pk, "127.0.0.1", {"old_parent": "R1", "new_parent": "R2"})
        # R2's admin now reaches them, R1's no longer.
        assert Api(token=key_for(tree.user("r2_admin"))).send("get", url(tree.c1a)).status_code == 200
        assert Api(token=key_for(tree.user("r1_admin"))).send("get", url(tree.c1a)).status_code == 404

    def test_a_move_into_itself_under_a_customer_or_to_nowhere_is_a_field_error(self, tree: Tree):
        before, count = shape(), events()
        api = Api(token=key_for(tree.user("master_admin")))
        for account, parent, words in [(tree.r1, tree.r1a, "loop"), (tree.r1, tree.r1, "loop"),
                                       (tree.r1a, tree.c0, "cannot have sub-accounts"),
                                       (tree.master, tree.r1, "cannot be moved"),
                                       (tree.c1, 999999, "No such account")]:
            pk = parent.pk if isinstance(parent, Account) else parent
            refused = api.send("post", url(account, "move"), {"parent": pk})
            assert refused.status_code == 400, (account.name, body(refused))
            assert words in body(refused)["parent"][0], body(refused)
        assert api.send("post", url(tree.c1, "move"), {}).status_code == 400
        assert (shape(), events()) == (before, count)

    def test_resellers_and_customers_change_no_structure(self, tree: Tree):
        before, count = shape(), events()
        cases = [
            # A reseller within its own subtree: the master's alone.
            ("r1_admin", "post", url(tree.c1, "move"), {"parent": tree.r1a.pk}, 403),
            ("r1_admin", "post", url(tree.c1, "promote"), None, 403),
            ("r1_admin", "post", url(tree.r1a, "demote"), None, 403),
            # A reseller moving its customer out of its subtree: the target is not there for it.
            ("r1_admin", "post", url(tree.c1, "move"), {"parent": tree.r2.pk}, 400),
            # A sibling reseller, a customer on its parent's path, a cousin: no such account.
            ("r2_admin", "post", url(tree.c1, "move"), {"parent": tree.r2.pk}, 404),
            ("r2_admin", "post", url(tree.c1, "promote"), None, 404),
            ("r2_admin", "post", url(tree.r1a, "demote"), None, 404),
            ("r2_admin", "post", url(tree.c1, "restore"), None, 404),
            ("c1_admin", "post", url(tree.r1, "move"), {"parent": tree.c1.pk}, 404),
            ("c1_admin", "post", url(tree.r1, "demote"), None, 404),
            ("c1_admin", "post", url(tree.c1, "promote"), None, 403),
            ("c1a_admin", "post", url(tree.c1, "promote"), None, 404),
        ]
        for username, method, target, data, expected in cases:
            refused = Api(token=key_for(tree.user(username))).send(method, target, data)
            assert refused.status_code == expected, (username, target, body(refused))
        for token in (key_for(tree.user("master_admin"), read_only=True),):
            api = Api(token=token)
            for action, data in (("move", {"parent": tree.r2.pk}), ("promote", None), ("restore", None)):
                assert api.send("post", url(tree.c1, action), data).status_code == 403, action
        assert (shape(), events()) == (before, count)
