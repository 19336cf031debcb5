"""Conference rooms in the portal: the model's own rules land on their fields."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import ConferenceRoom
from tests.pbx.portal.conftest import World


def test_the_same_pin_twice_is_refused_on_the_moderator_pin(world: World):
    data = {"number": "3000", "name": "Board room", "max_members": "25",
            "participant_pin": "1234", "moderator_pin": "1234"}
    response = world.browser("admin").post(f"/conference-rooms/{world.room.pk}/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors == {"moderator_pin": ["Use a PIN different from the participants'."]}
    with schema_context(world.account.schema_name):
        assert ConferenceRoom.objects.get(pk=world.room.pk).participant_pin == ""


def test_a_number_in_use_is_refused_on_the_number(world: World):
    response = world.browser("admin").post("/conference-rooms/add/",
                                           {"number": "1001", "name": "Clash", "max_members": "5"})
    assert response.status_code == 400
    assert "1001" in response.context["form"].errors["number"][0]
