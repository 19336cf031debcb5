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


def test_an_extensions_own_blocks_are_created_listed_and_filtered(tree: Tree):
    from pbx.actions import do_create_extension

    alice = do_create_extension(tree.c1, number="1001", name="Alice")
    theirs = do_create_extension(tree.c2, number="1002", name="Mallory")
    do_add_call_block(tree.c1, pattern="+1900*")
    api = Api(token=key_for(tree.user("c1_admin")))
    url = accounts_url(tree.c1, "call-blocks")
    created = api.send("post", url, {"pattern": "+12125551234", "extension": alice.pk, "direction": "both"})
    assert created.status_code == 201, body(created)
    assert (body(created)["extension"], body(created)["direction"]) == (alice.pk, "both")
    # The same number for the whole account is another block; twice for Alice is refused.
    assert api.send("post", url, {"pattern": "+12125551234"}).status_code == 201
    twice = api.send("post", url, {"pattern": "2125551234", "extension": alice.pk})
    assert twice.status_code == 400 and "already blocked" in body(twice)["pattern"][0]
    # An extension of another account (or none) is not one of this account's.
    for missing in (theirs.pk if theirs.pk != alice.pk else 999999, 999999):
        refused = api.send("post", url, {"pattern": "+12125550000", "extension": missing})
        assert refused.status_code == 400 and "extension" in body(refused)
    listed = body(api.send("get", f"{url}?extension={alice.pk}"))["results"]
    assert [(b["pattern"], b["extension"]) for b in listed] == [("+12125551234", alice.pk)]
    account_wide = body(api.send("get", f"{url}?extension=null"))["results"]
    assert [(b["pattern"], b["extension"]) for b in account_wide] == [("+12125551234", None),
                                                                      ("+1900*", None)]
    assert len(body(api.send("get", url))["results"]) == 3
