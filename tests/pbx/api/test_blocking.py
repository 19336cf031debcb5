"""Call blocks through the API (pbx/api/views/blocking.py)."""

from __future__ import annotations

from pbx.actions import do_add_call_block
from pbx.models import CallBlock
from tenants.models import Account
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestCallBlocksApi(ObjectApiTests):
    basename = "call-block"
    path = "call-blocks"
    model = CallBlock
    audit_name = "call_block"
    create_data = {"pattern": "+1900*", "direction": "both", "comment": "Premium rate"}
    update_data = {"comment": "Premium-rate numbers", "direction": "outgoing"}
    invalid_data = {"direction": "sideways"}
    invalid_field = "direction"
    list_queries = 9

    def make(self, account: Account, index: int) -> CallBlock:
        return do_add_call_block(account, pattern=f"+1416555{index:04d}")

    def test_a_number_blocked_twice_and_a_bad_pattern_are_field_errors(self, tree: Tree):
        do_add_call_block(tree.c1, pattern="+14165550100")
        api = Api(token=key_for(tree.user("c1_admin")))
        twice = api.send("post", accounts_url(tree.c1, "call-blocks"), {"pattern": "+14165550100"})
        assert twice.status_code == 400 and "already blocked" in body(twice)["pattern"][0]
        bad = api.send("post", accounts_url(tree.c1, "call-blocks"), {"pattern": "not a number"})
        assert bad.status_code == 400 and "pattern" in body(bad)
        anonymous = api.send("post", accounts_url(tree.c1, "call-blocks"), {"anonymous": True})
        assert anonymous.status_code == 201 and body(anonymous)["pattern"] == ""
