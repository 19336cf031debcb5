"""Ring groups and their members through the API (pbx/api/views/ringgroups.py)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.actions import do_create_ring_group, do_set_ring_group_members, do_update_extension
from pbx.models import RingGroup, RingGroupMember
from tenants.models import Account
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestRingGroupsApi(ObjectApiTests):
    basename = "ring-group"
    extra_routes = ("ring-group-members",)
    path = "ring-groups"
    model = RingGroup
    audit_name = "ring_group"
    create_data = {"number": "3000", "name": "Sales", "strategy": "in_order"}
    update_data = {"name": "Sales team", "strategy": "simultaneous", "ring_seconds": 40}
    invalid_data = {"strategy": "everybody"}
    invalid_field = "strategy"
    list_queries = 10

    def make(self, account: Account, index: int) -> RingGroup:
        return do_create_ring_group(account, number=f"30{index:02d}", name=f"Group {index}")

    def test_members_are_set_in_order_and_read_back(self, tree: Tree):
        group = self.make(tree.c1, 1)
        alice, bob = extension(tree.c1, "1001"), extension(tree.c1, "1002")
        api = Api(token=key_for(tree.user("c1_admin")))
        url = accounts_url(tree.c1, "ring-groups", group.pk, "members")
        members = [{"destination": ref(bob), "ring_seconds": 20, "enabled": True},
                   {"destination": ref(alice), "ring_seconds": None, "enabled": False},
                   {"destination": "external:+14165550100", "ring_seconds": None, "enabled": True}]
        put = api.send("put", url, {"members": members})
        assert put.status_code == 200, body(put)
        assert body(put) == {"members": members}
        assert body(api.send("get", url)) == {"members": members}
        assert body(api.send("get", accounts_url(tree.c1, "ring-groups", group.pk)))["members"] == members

    def test_members_are_field_errors_when_they_are_no_ringable_destination(self, tree: Tree):
        group = self.make(tree.c1, 1)
        api = Api(token=key_for(tree.user("c1_admin")))
        url = accounts_url(tree.c1, "ring-groups", group.pk, "members")
        refused = api.send("put", url, {"members": [{"destination": "extension:999"},
                                                    {"destination": "voicemail"}]})
        assert refused.status_code == 400
        assert "members" in body(refused)
        with schema_context(tree.c1.schema_name):
            assert not RingGroupMember.objects.exists()

    def test_members_of_another_tenant_cannot_be_read_or_set(self, tree: Tree):
        group = self.make(tree.c1, 1)
        do_set_ring_group_members(tree.c1, group, [("external:+14165550100", None, True)])
        url = accounts_url(tree.c1, "ring-groups", group.pk, "members")
        outsider = Api(token=key_for(tree.user("c2_admin")))
        assert outsider.send("get", url).status_code == 404
        assert outsider.send("put", url, {"members": []}).status_code == 404
        readonly = Api(token=key_for(tree.user("r1_readonly")))
        assert readonly.send("get", url).status_code == 200
        assert readonly.send("put", url, {"members": []}).status_code == 403
        with schema_context(tree.c1.schema_name):
            assert RingGroupMember.objects.count() == 1

    def test_a_group_a_forward_uses_is_409_to_delete(self, tree: Tree):
        group = self.make(tree.c1, 1)
        alice = extension(tree.c1, "1001")
        do_update_extension(tree.c1, alice, forward_busy=True, forward_busy_to=ref(group))
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "delete", accounts_url(tree.c1, "ring-groups", group.pk))
        assert refused.status_code == 409 and body(refused)["code"] == "in_use"
        assert any("1001" in user for user in body(refused)["used_by"])

    def test_a_fallback_loop_is_a_field_error(self, tree: Tree):
        first, second = self.make(tree.c1, 1), self.make(tree.c1, 2)
        api = Api(token=key_for(tree.user("c1_admin")))
        assert api.send("patch", accounts_url(tree.c1, "ring-groups", first.pk),
                        {"fallback": ref(second)}).status_code == 200
        looped = api.send("patch", accounts_url(tree.c1, "ring-groups", second.pk), {"fallback": ref(first)})
        assert looped.status_code == 400 and "loop" in body(looped)["fallback"][0]
