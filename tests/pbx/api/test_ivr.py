"""Auto attendants (IVR menus) and their keys through the API (pbx/api/views/ivr.py)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.actions import do_create_ivr
from pbx.models import Ivr, IvrOption
from tenants.models import Account
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestAutoAttendantsApi(ObjectApiTests):
    basename = "ivr"
    extra_routes = ("ivr-options",)
    path = "auto-attendants"
    model = Ivr
    audit_name = "ivr"
    create_data = {"name": "Main menu", "number": "6000", "dial_by_extension": False}
    update_data = {"name": "Main", "max_attempts": 5, "exit_destination": "hangup"}
    invalid_data = {"digit_timeout": 99}
    invalid_field = "digit_timeout"
    list_queries = 10

    def make(self, account: Account, index: int) -> Ivr:
        return do_create_ivr(account, name=f"Menu {index}", number=f"60{index:02d}")

    def test_keys_are_set_read_back_and_checked(self, tree: Tree):
        menu = self.make(tree.c1, 1)
        alice = extension(tree.c1, "1001")
        url = accounts_url(tree.c1, "auto-attendants", menu.pk, "options")
        api = Api(token=key_for(tree.user("c1_admin")))
        options = {"1": ref(alice), "0": "directory", "#": "hangup"}
        put = api.send("put", url, {"options": options})
        assert put.status_code == 200, body(put)
        assert body(api.send("get", url)) == {"options": {"#": "hangup", "0": "directory", "1": ref(alice)}}
        assert body(api.send("get", accounts_url(tree.c1, "auto-attendants", menu.pk)))["options"] == options
        refused = api.send("put", url, {"options": {"x": "hangup", "2": "extension:999"}})
        assert refused.status_code == 400 and len(body(refused)["options"]) == 2
        with schema_context(tree.c1.schema_name):
            assert IvrOption.objects.count() == 3
