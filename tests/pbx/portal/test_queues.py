"""Call queues in the portal: agents added, re-tiered and removed in one POST through
``do_set_queue_agents``; the fallback chosen with the picker, a loop refused on it."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import CallQueue, QueueAgent
from tests.pbx.portal.conftest import World
from tests.pbx.portal.test_pages import queue_data


def agents(world: World) -> list[tuple[str, int, int, bool]]:
    with schema_context(world.account.schema_name):
        return [(agent.extension.number, agent.level, agent.position, agent.login_required)
                for agent in QueueAgent.objects.filter(queue=world.queue).select_related("extension")
                .order_by("extension__number")]


def test_agents_are_added_retiered_and_removed(world: World):
    browser = world.browser("admin")
    url = f"/call-queues/{world.queue.pk}/agents/"
    alice, bob = world.extension.pk, world.spare.pk
    page = browser.get(f"/call-queues/{world.queue.pk}/").content.decode()
    assert "1001 Alice Archer" in page and "Logged Out" in page  # must dial *62 first
    response = browser.post(url, {f"agent_{alice}_level": "2", f"agent_{alice}_position": "3",
                                  f"agent_{alice}_login_required": "on",
                                  "new_extension": str(bob), "new_level": "1"})
    assert response.status_code == 302
    assert agents(world) == [("1001", 2, 3, True), ("1002", 1, 4, False)]
    response = browser.post(url, {f"agent_{alice}_level": "2", f"agent_{alice}_position": "3",
                                  f"agent_{alice}_remove": "on", f"agent_{bob}_level": "1",
                                  f"agent_{bob}_position": "1", "new_level": "1"})
    assert response.status_code == 302
    assert agents(world) == [("1002", 1, 1, False)]


def test_a_level_out_of_range_is_refused_and_changes_nothing(world: World):
    response = world.browser("admin").post(f"/call-queues/{world.queue.pk}/agents/", {
        f"agent_{world.extension.pk}_level": "12", f"agent_{world.extension.pk}_position": "1",
        "new_level": "1"})
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 9." in response.content.decode()
    assert agents(world) == [("1001", 1, 1, True)]


def test_the_fallback_is_chosen_with_the_picker_and_a_loop_is_refused(world: World):
    browser = world.browser("admin")
    url = f"/call-queues/{world.queue.pk}/"
    data = {**queue_data("6000", "Help desk"), "fallback_kind": "voicemail",
            "fallback_object": f"voicemail:{world.box.pk}"}
    assert browser.post(url, data).status_code == 302
    with schema_context(world.account.schema_name):
        assert CallQueue.objects.get(pk=world.queue.pk).fallback == f"voicemail:{world.box.pk}"
    data = {**data, "fallback_kind": "queue", "fallback_object": f"queue:{world.queue.pk}"}
    response = browser.post(url, data)
    assert response.status_code == 400 and "fallback" in response.context["form"].errors
    with schema_context(world.account.schema_name):
        assert CallQueue.objects.get(pk=world.queue.pk).fallback == f"voicemail:{world.box.pk}"
