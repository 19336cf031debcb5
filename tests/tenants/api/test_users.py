"""Staff users and their API keys through the API (tenants/api/views/users.py), written
by tenants.actions: roles offered from the model, a key's token shown once, a customer's
admin making keys for its own users, and the attacker's view of every route."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.actions import do_create_staff_user
from tenants.models import Account, ApiKey, AuditEvent, Role, User
from tests.conftest import PASSWORD, Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for

NEW_PASSWORD = "a-new-long-passphrase-42"


def users_url(account: Account | int, *rest) -> str:
    return accounts_url(account, "users", *rest)


def keys_url(account: Account | int, user: User | int, *rest) -> str:
    pk = user.pk if isinstance(user, User) else user
    return accounts_url(account, "users", pk, "api-keys", *rest)


def victim_key(user: User) -> ApiKey:
    return ApiKey.objects.matching(key_for(user, name="victim"))


def staff(tree: Tree, account: Account, username: str, role: str = Role.ADMIN) -> User:
    return do_create_staff_user(tree.user("master_admin"), account=account, username=username,
                                password=PASSWORD, role=role)


def snapshot() -> tuple[list, list]:
    """Every user and key as stored (but the callers' own keys, made as the test goes):
    what a refused call must leave as it was."""
    return (list(User.objects.order_by("pk").values_list("pk", "username", "role", "is_active", "email",
                                                          "password")),
            list(ApiKey.objects.exclude(name="test").order_by("pk").values_list("pk", "revoked_at", "name")))


def audited(action: str, actor: User, account: Account) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).latest("id")
    assert (event.actor_id, event.ip, event.account_id) == (actor.pk, "127.0.0.1", account.pk), action
    return event


class TestStaffUsersApi:
    query_counted_routes = ("staff-user-list",)
    covered_routes = ("staff-user-list", "staff-user-detail", "staff-user-activate", "staff-user-deactivate",
                      "staff-user-set-password")

    def test_an_ancestors_admin_adds_changes_disables_and_resets_a_user(self, tree: Tree):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        created = api.send("post", users_url(tree.c1), {
            "username": "c1_ops", "password": PASSWORD, "email": "ops@c1.example.net", "role": "read_only"})
        assert created.status_code == 201, body(created)
        shown = body(created)
        assert (shown["username"], shown["role"], shown["is_active"]) == ("c1_ops", "read_only", True)
        assert "password" not in shown and PASSWORD not in created.content.decode()
        user = User.objects.get(pk=shown["id"])
        assert user.account_id == tree.c1.pk and user.check_password(PASSWORD)
        audited("user.create", admin, tree.c1)

        assert body(api.send("get", users_url(tree.c1, user.pk))) == shown
        listed = [u["username"] for u in body(api.send("get", users_url(tree.c1)))["results"]]
        assert listed == ["c1_admin", "c1_ops"]
        assert [u["username"] for u in body(api.send("get", users_url(tree.c1) + "?q=ops"))["results"]] == [
            "c1_ops"]

        changed = api.send("patch", users_url(tree.c1, user.pk), {"role": "admin", "first_name": "Olga"})
        assert changed.status_code == 200 and (body(changed)["role"], body(changed)["first_name"]) == (
            "admin", "Olga")
        audited("user.update", admin, tree.c1)
        off = api.send("post", users_url(tree.c1, user.pk, "deactivate"))
        assert off.status_code == 200 and body(off)["is_active"] is False
        audited("user.disable", admin, tree.c1)
        assert body(api.send("post", users_url(tree.c1, user.pk, "activate")))["is_active"] is True
        audited("user.enable", admin, tree.c1)
        reset = api.send("post", users_url(tree.c1, user.pk, "set-password"), {"password": NEW_PASSWORD})
        assert reset.status_code == 204
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert audited("user.password", admin, tree.c1).details == {"username": "c1_ops"}

    def test_every_role_of_the_model_is_offered(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        for index, role in enumerate(Role.values):
            made = api.send("post", users_url(tree.c1), {"username": f"role{index}", "password": PASSWORD,
                                                         "role": role})
            assert made.status_code == 201 and body(made)["role"] == role, body(made)
        document = Api().get("/api/v1/schema/?format=json").json()
        enums = [schema["enum"] for schema in document["components"]["schemas"].values() if "enum" in schema]
        assert sorted(Role.values) in [sorted(values) for values in enums]

    def test_what_the_actions_refuse_comes_back_by_field(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        before = snapshot()
        for data, field in [({"username": "weak", "password": "123"}, "password"),
                            ({"username": "x", "password": PASSWORD, "role": "owner"}, "role"),
                            ({"username": "c2_admin", "password": PASSWORD}, "username"),
                            ({"username": "no spaces allowed!", "password": PASSWORD}, "username")]:
            refused = api.send("post", users_url(tree.c1), data)
            assert refused.status_code == 400 and field in body(refused), (data, body(refused))
        me = tree.user("c1_admin")
        own_role = api.send("patch", users_url(tree.c1, me.pk), {"role": "read_only"})
        assert own_role.status_code == 400 and "role" in body(own_role)
        weak = api.send("post", users_url(tree.c1, me.pk, "set-password"), {"password": "123"})
        assert weak.status_code == 400 and "password" in body(weak)
        assert snapshot() == before

    def test_roles_below_admin_do_only_what_their_role_allows(self, tree: Tree):
        target = staff(tree, tree.c1, "c1_clerk")
        before = snapshot()
        for token in (key_for(tree.user("r1_readonly")), key_for(tree.user("r1_admin"), read_only=True)):
            api = Api(token=token)
            assert api.send("get", users_url(tree.c1)).status_code == 200
            assert api.send("get", users_url(tree.c1, target.pk)).status_code == 200
            for method, url, data in [
                ("post", users_url(tree.c1), {"username": "sneaky", "password": PASSWORD}),
                ("patch", users_url(tree.c1, target.pk), {"role": "admin"}),
                ("post", users_url(tree.c1, target.pk, "deactivate"), None),
                ("post", users_url(tree.c1, target.pk, "set-password"), {"password": NEW_PASSWORD}),
            ]:
                assert api.send(method, url, data).status_code == 403, (method, url)
        assert snapshot() == before
        # User activation: enables and disables, nothing else.
        activation = Api(token=key_for(tree.user("r1_activation")))
        assert activation.send("post", users_url(tree.c1), {"username": "sneaky", "password": PASSWORD}
                               ).status_code == 403
        assert activation.send("patch", users_url(tree.c1, target.pk), {"role": "admin"}).status_code == 403
        assert activation.send("post", users_url(tree.c1, target.pk, "set-password"),
                               {"password": NEW_PASSWORD}).status_code == 403
        # ... and only the employees' logins (seed 002: "enable or disable users only"),
        # never staff: an admin's deactivation is refused by the action.
        refused = activation.send("post", users_url(tree.c1, target.pk, "deactivate"))
        assert refused.status_code == 403 and "employees' logins only" in str(body(refused))
        target.refresh_from_db()
        assert (target.is_active, target.role, target.check_password(PASSWORD)) == (True, "admin", True)
        employee = staff(tree, tree.c1, "c1_employee", Role.END_USER)
        assert activation.send("post", users_url(tree.c1, employee.pk, "deactivate")).status_code == 200
        employee.refresh_from_db()
        assert not employee.is_active

    def test_outside_reach_is_404_like_missing_and_nobody_gets_in_without_credentials(self, tree: Tree):
        theirs = tree.user("c1_admin")
        r1_user = tree.user("r1_readonly")
        before = snapshot()
        missing = Api(token=key_for(tree.user("r2_admin"))).send("get", users_url(999999))
        outside = [("r2_admin", tree.c1, theirs), ("r2_admin", tree.r1, r1_user),
                   ("c1_admin", tree.r1, r1_user), ("c1a_admin", tree.c1, theirs)]
        # Its own account's path with another account's user id.
        own_path = [("c2_admin", tree.c2, theirs), ("r1_admin", tree.c1, r1_user)]
        for username, account, user in outside + own_path:
            api = Api(token=key_for(tree.user(username)))
            calls = [
                ("get", users_url(account, user.pk), None),
                ("patch", users_url(account, user.pk), {"email": "evil@example.net"}),
                ("post", users_url(account, user.pk, "deactivate"), None),
                ("post", users_url(account, user.pk, "activate"), None),
                ("post", users_url(account, user.pk, "set-password"), {"password": NEW_PASSWORD}),
            ]
            if (username, account, user) in outside:
                calls += [("get", users_url(account), None),
                          ("post", users_url(account), {"username": "evil", "password": PASSWORD})]
            for method, url, data in calls:
                refused = api.send(method, url, data)
                assert (refused.status_code, body(refused)) == (404, body(missing)), (username, method, url)
            assert Api().send("get", users_url(tree.c1)).status_code == 401
        assert snapshot() == before

    def test_a_list_page_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        for n in range(4):
            staff(tree, tree.c1, f"c1_staff{n}")
        api = Api(token=key_for(tree.user("c1_admin")))
        api.send("get", users_url(tree.c1))
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"{users_url(tree.c1)}?page_size={size}")
            assert len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts[0] == counts[1], counts


class TestApiKeysApi:
    covered_routes = ("api-key-list", "api-key-detail")

    def test_keys_are_searched_by_name_or_by_the_start_of_the_token(self, tree: Tree):
        admin = tree.user("c1_admin")
        crm = key_for(admin, name="CRM sync")
        key_for(admin, name="Billing")
        api = Api(token=key_for(admin, name="Ops"))
        for query in ("crm", crm[:9], crm[3:8]):
            found = body(api.send("get", keys_url(tree.c1, admin) + f"?q={query}"))["results"]
            assert [key["name"] for key in found] == ["CRM sync"], query

    def test_a_customers_admin_makes_a_key_for_its_own_user_shown_once_then_revokes_it(self, tree: Tree):
        admin = tree.user("c1_admin")
        clerk = staff(tree, tree.c1, "c1_clerk")
        api = Api(token=key_for(admin))
        made = api.send("post", keys_url(tree.c1, clerk), {"name": "billing sync", "read_only": True})
        assert made.status_code == 201, body(made)
        token = body(made)["token"]
        assert token.startswith(body(made)["key"].rstrip("…")) and body(made)["state"] == "active"
        key = ApiKey.objects.get(pk=body(made)["id"])
        assert (key.user_id, key.account_id, key.read_only, key.created_by_id) == (clerk.pk, tree.c1.pk, True,
                                                                                   admin.pk)
        assert audited("api_key.create", admin, tree.c1).details["username"] == "c1_clerk"
        read = api.send("get", keys_url(tree.c1, clerk, key.pk))
        listed = api.send("get", keys_url(tree.c1, clerk))
        assert token not in read.content.decode() + listed.content.decode()
        assert [k["id"] for k in body(listed)["results"]] == [key.pk]
        # The token acts as its user (read-only here).
        assert Api(token=token).send("get", users_url(tree.c1)).status_code == 200
        assert Api(token=token).send("post", users_url(tree.c1, clerk.pk, "deactivate")).status_code == 403

        assert api.send("delete", keys_url(tree.c1, clerk, key.pk)).status_code == 204
        assert body(api.send("get", keys_url(tree.c1, clerk, key.pk)))["state"] == "revoked"
        audited("api_key.revoke", admin, tree.c1)
        assert Api(token=token).send("get", users_url(tree.c1)).status_code == 401

    def test_a_key_with_an_expiry_and_what_is_refused_by_field(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        me = tree.user("c1_admin")
        soon = (timezone.now() + timedelta(days=30)).isoformat()
        made = api.send("post", keys_url(tree.c1, me), {"name": "CI", "expires_at": soon})
        assert made.status_code == 201 and body(made)["expires_at"] is not None
        before = snapshot()
        past = (timezone.now() - timedelta(days=1)).isoformat()
        for data, field in [({"name": "old", "expires_at": past}, "expires_at"), ({"name": ""}, "name"),
                            ({"name": "x" * 101}, "name")]:
            refused = api.send("post", keys_url(tree.c1, me), data)
            assert refused.status_code == 400 and field in body(refused), (data, body(refused))
        disabled = staff(tree, tree.c1, "c1_gone")
        do_disable = Api(token=key_for(tree.user("r1_admin")))
        assert do_disable.send("post", users_url(tree.c1, disabled.pk, "deactivate")).status_code == 200
        refused = api.send("post", keys_url(tree.c1, disabled), {"name": "x"})
        assert refused.status_code == 400 and "user" in body(refused)
        assert snapshot()[1] == before[1]

    def test_read_only_users_and_keys_make_and_revoke_no_keys(self, tree: Tree):
        reader = tree.user("r1_readonly")
        target = victim_key(tree.user("r1_admin"))
        before = snapshot()
        for token in (key_for(reader), key_for(tree.user("r1_admin"), read_only=True)):
            api = Api(token=token)
            for owner in (reader, tree.user("r1_admin")):
                assert api.send("post", keys_url(tree.r1, owner), {"name": "mine"}).status_code == 403
            assert api.send("delete", keys_url(tree.r1, tree.user("r1_admin"), target.pk)).status_code == 403
            assert api.send("get", keys_url(tree.r1, tree.user("r1_admin"))).status_code == 200
        # A customer's read-only user: the same on its own account.
        c1_reader = staff(tree, tree.c1, "c1_reader", Role.READ_ONLY)
        before = snapshot()
        api = Api(token=key_for(c1_reader))
        assert api.send("post", keys_url(tree.c1, c1_reader), {"name": "mine"}).status_code == 403
        assert api.send("post", keys_url(tree.c1, tree.user("c1_admin")), {"name": "x"}).status_code == 403
        assert snapshot() == before

    def test_keys_outside_reach_or_of_another_user_are_404(self, tree: Tree):
        c1_admin, r1_admin = tree.user("c1_admin"), tree.user("r1_admin")
        c1_key, r1_key = victim_key(c1_admin), victim_key(r1_admin)
        clerk = staff(tree, tree.c1, "c1_clerk")
        before = snapshot()
        missing = Api(token=key_for(tree.user("r2_admin"))).send("get", keys_url(999999, 1))
        for username, account, owner, key in [
            ("r2_admin", tree.c1, c1_admin, c1_key),  # a sibling reseller
            ("c1_admin", tree.r1, r1_admin, r1_key),  # a customer on its parent's path
            ("c2_admin", tree.c2, c1_admin, c1_key),  # its own path, another account's user
            ("c1_admin", tree.c1, clerk, c1_key),  # a key of another user of the same account
            ("c1a_admin", tree.c1, c1_admin, c1_key),  # a cousin
        ]:
            api = Api(token=key_for(tree.user(username)))
            for method, url, data in [
                ("get", keys_url(account, owner, key.pk), None),
                ("delete", keys_url(account, owner, key.pk), None),
            ] + ([] if (username, owner) == ("c1_admin", clerk) else [
                ("get", keys_url(account, owner), None),
                ("post", keys_url(account, owner), {"name": "evil"}),
            ]):
                refused = api.send(method, url, data)
                assert (refused.status_code, body(refused)) == (404, body(missing)), (username, method, url)
        assert Api().send("get", keys_url(tree.c1, c1_admin)).status_code == 401
        assert snapshot()[1] == before[1]
