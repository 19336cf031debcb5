"""Follow-me in the admin portal: steps and targets through the picker written at once by
``do_set_follow_me``, a free slot to add a target and a step, the action's errors shown,
removal back to ringing the phones."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import FollowMe
from tests.pbx.portal.conftest import World
from tests.pbx.portal.test_pages import follow_me_data


def steps(world: World, extension) -> list[tuple[int, bool, list[str]]]:
    with schema_context(world.account.schema_name):
        follow_me = FollowMe.objects.get(extension=extension)
        return [(step.ring_seconds, step.confirm, [t.destination for t in step.targets.all()])
                for step in follow_me.steps.order_by("position")]


def test_steps_are_set_and_a_free_slot_follows(world: World):
    browser = world.browser("admin")
    url = f"/extensions/{world.spare.pk}/follow-me/"
    page = browser.get(url).content.decode()
    # The step there (one target) with a free target slot, and a free step 2.
    assert 'name="step_1_target_2_kind"' in page and 'name="step_2_target_1_kind"' in page
    assert 'name="step_1_target_3_kind"' not in page
    data = {**follow_me_data(world), "step_1_target_1_kind": "external",
            "step_1_target_1_number": "+12125550111", "step_1_target_2_kind": "extension",
            "step_1_target_2_object": f"extension:{world.extension.pk}",
            "step_2_ring_seconds": "40", "step_2_target_1_kind": "external",
            "step_2_target_1_number": "+12125550122"}
    assert browser.post(url, data).status_code == 302
    assert steps(world, world.spare) == [
        (25, True, ["external:+12125550111", f"extension:{world.extension.pk}"]),
        (40, False, ["external:+12125550122"])]
    page = browser.get(url).content.decode()
    assert 'name="step_3_target_1_kind"' in page and 'name="step_2_target_2_kind"' in page


def test_a_step_emptied_is_left_out_and_errors_are_shown(world: World):
    browser = world.browser("admin")
    url = f"/extensions/{world.spare.pk}/follow-me/"
    # Every target cleared while follow-me stays on: the action asks for a step.
    response = browser.post(url, {"enabled": "on", "fallback_kind": "", "step_1_ring_seconds": "20",
                                  "step_1_target_1_kind": ""})
    assert response.status_code == 400
    assert "Add at least one step, or switch follow-me off." in response.content.decode()
    assert steps(world, world.spare) == [(20, True, ["external:+12125550111"])]
    response = browser.post(url, {**follow_me_data(world), "step_1_ring_seconds": "2"})
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 5." in response.content.decode()


def test_removed_follow_me_rings_the_phones_again(world: World):
    browser = world.browser("admin")
    response = browser.post(f"/extensions/{world.spare.pk}/follow-me/delete/")
    assert response.status_code == 302
    with schema_context(world.account.schema_name):
        assert not FollowMe.objects.filter(extension=world.spare).exists()
    page = browser.get(f"/extensions/{world.spare.pk}/follow-me/").content.decode()
    assert "calls ring the extension's phones" in page and "Remove follow-me" not in page
