"""Conference rooms through the API (pbx/api/views/conferences.py)."""

from __future__ import annotations

from pbx.actions import do_create_conference_room
from pbx.models import ConferenceRoom
from tenants.models import Account
from tests.conftest import Tree
from tests.switchboard.api.client import Api, accounts_url, body, key_for
from tests.switchboard.api.objects import ObjectApiTests


class TestConferenceRoomsApi(ObjectApiTests):
    basename = "conference-room"
    path = "conference-rooms"
    model = ConferenceRoom
    audit_name = "conference"
    create_data = {"number": "4000", "name": "Board", "participant_pin": "4826", "max_members": 10}
    update_data = {"name": "Boardroom", "locked": True, "moderator_pin": "9371"}
    invalid_data = {"max_members": 1}
    invalid_field = "max_members"
    list_queries = 9

    def make(self, account: Account, index: int) -> ConferenceRoom:
        return do_create_conference_room(account, number=f"40{index:02d}", name=f"Room {index}")

    def test_the_models_own_rules_are_field_errors(self, tree: Tree):
        refused = Api(token=key_for(tree.user("c1_admin"))).send(
            "post", accounts_url(tree.c1, "conference-rooms"),
            {"number": "4000", "name": "Same", "participant_pin": "4826", "moderator_pin": "4826"})
        assert refused.status_code == 400 and "moderator_pin" in body(refused)
