"""Extensions and devices through the API (pbx/api/views/extensions.py)."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from common.secrets import decrypt_secret
from pbx.actions import do_add_device, do_create_ring_group, do_set_ring_group_members
from pbx.models import Device, Extension
from tenants.models import Account
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension, ref
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestExtensionsApi(ObjectApiTests):
    basename = "extension"
    path = "extensions"
    model = Extension
    audit_name = "extension"
    create_data = {"number": "1001", "name": "Alice", "voicemail_pin": "4826"}
    update_data = {"name": "Alice Bell", "ring_seconds": 30, "call_groups": ["sales"]}
    invalid_data = {"number": "12"}
    invalid_field = "number"
    list_queries = 10

    def make(self, account: Account, index: int) -> Extension:
        return extension(account, f"10{index:02d}")

    def test_a_taken_number_is_409(self, tree: Tree):
        do_create_ring_group(tree.c1, number="2000", name="Sales")
        taken = Api(token=key_for(tree.user("c1_admin"))).send(
            "post", accounts_url(tree.c1, "extensions"), {"number": "2000", "name": "Bob"})
        assert taken.status_code == 409
        assert body(taken) == {"detail": "2000 is already used by Ring group 2000 Sales.",
                               "code": "taken", "field": "number"}

    def test_an_extension_a_ring_group_rings_is_409_to_delete_and_names_its_users(self, tree: Tree):
        alice = extension(tree.c1, "1001")
        group = do_create_ring_group(tree.c1, number="2000", name="Sales")
        do_set_ring_group_members(tree.c1, group, [(ref(alice), None, True)])
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "delete", accounts_url(tree.c1, "extensions", alice.pk))
        assert refused.status_code == 409
        assert body(refused)["code"] == "in_use"
        assert body(refused)["used_by"] and "2000" in body(refused)["used_by"][0]
        with schema_context(tree.c1.schema_name):
            assert Extension.objects.filter(pk=alice.pk).exists()

    def test_the_voicemail_pin_is_never_shown(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        created = api.send("post", accounts_url(tree.c1, "extensions"), self.create_data)
        assert "voicemail_pin" not in body(created)
        assert "4826" not in created.content.decode()


class TestDevicesApi(ObjectApiTests):
    basename = "device"
    extra_routes = ("device-regenerate-secret",)
    path = "devices"
    model = Device
    audit_name = "device"
    create_data = {"label": "Desk phone"}
    update_data = {"label": "Mobile app", "enabled": False}
    invalid_data = {"username": "not a username!"}
    invalid_field = "username"
    list_queries = 9

    def make(self, account: Account, index: int) -> Device:
        return do_add_device(account, extension(account, f"20{index:02d}"))[0]

    def payload(self, account: Account) -> dict[str, Any]:
        # One extension per account and test, so a retried create sends the same body.
        owners = self.__dict__.setdefault("_owners", {})
        if account.pk not in owners:
            owners[account.pk] = extension(account, "1999").pk
        return {**self.create_data, "extension": owners[account.pk]}

    def test_the_sip_secret_is_shown_once_when_made_and_when_regenerated(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        created = api.send("post", accounts_url(tree.c1, "devices"), self.payload(tree.c1))
        device = body(created)
        assert created.status_code == 201 and len(device["secret"]) >= 16
        assert device["username"] == "1999"
        read = body(api.send("get", accounts_url(tree.c1, "devices", device["id"])))
        assert "secret" not in read and device["secret"] not in str(read)
        regenerated = api.send("post", accounts_url(tree.c1, "devices", device["id"], "regenerate-secret"))
        assert regenerated.status_code == 200
        assert body(regenerated)["secret"] not in ("", device["secret"])
        with schema_context(tree.c1.schema_name):
            stored = Device.objects.get(pk=device["id"]).secret_encrypted
        assert decrypt_secret(stored) == body(regenerated)["secret"]

    def test_regenerating_is_refused_to_read_only_and_outside(self, tree: Tree):
        device = self.make(tree.c1, 1)
        with schema_context(tree.c1.schema_name):
            before = Device.objects.get(pk=device.pk).secret_encrypted
        url = accounts_url(tree.c1, "devices", device.pk, "regenerate-secret")
        assert Api(token=key_for(tree.user("r1_readonly"))).send("post", url).status_code == 403
        assert Api(token=key_for(tree.user("c2_admin"))).send("post", url).status_code == 404
        assert Api().send("post", url).status_code == 401
        with schema_context(tree.c1.schema_name):
            assert Device.objects.get(pk=device.pk).secret_encrypted == before

    def test_a_device_of_another_tenants_extension_is_a_field_error(self, tree: Tree):
        theirs = [extension(tree.c2, f"15{n:02d}") for n in range(3)][-1]
        extension(tree.c1, "1001")
        with schema_context(tree.c1.schema_name):
            assert not Extension.objects.filter(pk=theirs.pk).exists()
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "post", accounts_url(tree.c1, "devices"), {"extension": theirs.pk})
        assert refused.status_code == 400 and "extension" in body(refused)
        with schema_context(tree.c2.schema_name):
            assert not Device.objects.exists()
