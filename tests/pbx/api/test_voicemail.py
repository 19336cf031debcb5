"""Voicemail boxes through the API (pbx/api/views/voicemail.py): the PIN is shown only in
the answer that set it."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.actions import do_create_voicemail_box, do_update_extension
from pbx.models import VoicemailBox
from tenants.models import Account
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestVoicemailBoxesApi(ObjectApiTests):
    basename = "voicemail-box"
    extra_routes = ("voicemail-box-pin",)
    path = "voicemail-boxes"
    model = VoicemailBox
    audit_name = "voicemail"
    create_data = {"number": "7000", "name": "General", "email": "office@example.net"}
    update_data = {"name": "General mailbox", "keep_days": 60}
    invalid_data = {"keep_days": 999}
    invalid_field = "keep_days"
    list_queries = 9

    def make(self, account: Account, index: int) -> VoicemailBox:
        return do_create_voicemail_box(account, number=f"70{index:02d}", name=f"Box {index}")[0]

    def test_the_pin_is_shown_once_when_made_and_when_set(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        created = body(api.send("post", accounts_url(tree.c1, "voicemail-boxes"), self.create_data))
        assert created["pin"].isdigit() and len(created["pin"]) >= 4
        read = body(api.send("get", accounts_url(tree.c1, "voicemail-boxes", created["id"])))
        assert "pin" not in read
        pin_url = accounts_url(tree.c1, "voicemail-boxes", created["id"], "pin")
        reset = api.send("post", pin_url)
        assert reset.status_code == 200 and body(reset)["pin"] != created["pin"]
        chosen = api.send("post", pin_url, {"pin": "482619"})
        assert body(chosen)["pin"] == "482619"
        weak = api.send("post", pin_url, {"pin": "1234"})
        assert weak.status_code == 400 and "pin" in body(weak)
        with schema_context(tree.c1.schema_name):
            assert VoicemailBox.objects.get(pk=created["id"]).pin == "482619"
        outsider = Api(token=key_for(tree.user("c2_admin")))
        url = accounts_url(tree.c1, "voicemail-boxes", created["id"], "pin")
        assert outsider.send("post", url).status_code == 404
        assert Api(token=key_for(tree.user("r1_readonly"))).send("post", url).status_code == 403

    def test_an_extensions_box_in_use_is_409_to_delete(self, tree: Tree):
        alice = extension(tree.c1, "1001")
        with schema_context(tree.c1.schema_name):
            box = VoicemailBox.objects.get(extension=alice)
        api = Api(token=key_for(tree.user("c1_admin")))
        refused = api.send("delete", accounts_url(tree.c1, "voicemail-boxes", box.pk))
        assert refused.status_code == 409 and body(refused)["code"] == "in_use"
        do_update_extension(tree.c1, alice, voicemail_enabled=False)
        assert api.send("delete", accounts_url(tree.c1, "voicemail-boxes", box.pk)).status_code == 204
