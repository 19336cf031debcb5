"""Auto attendants in the portal: keys chosen with one picker each, the action's key
errors shown, the explainer follows a routed number into the menu."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import IvrOption
from pbx.numbers import do_route_number
from tests.pbx.portal.conftest import World


def keys(world: World) -> dict[str, str]:
    with schema_context(world.account.schema_name):
        return dict(IvrOption.objects.filter(ivr=world.ivr).values_list("key", "destination"))


def test_keys_are_set_together_and_shown_again(world: World):
    browser = world.browser("admin")
    response = browser.post(f"/auto-attendants/{world.ivr.pk}/keys/", {
        "key_1_kind": "ring_group", "key_1_object": f"ring_group:{world.group.pk}",
        "key_star_kind": "check_voicemail", "key_0_kind": "extension",
        "key_0_object": f"extension:{world.extension.pk}"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert keys(world) == {"1": f"ring_group:{world.group.pk}", "*": "check_voicemail",
                           "0": f"extension:{world.extension.pk}"}
    page = browser.get(f"/auto-attendants/{world.ivr.pk}/").content.decode()
    assert f'<option value="ring_group:{world.group.pk}" selected>' in page
    listing = browser.get("/auto-attendants/").content.decode()
    assert "1 → Ring group 2000 Sales" in listing


def test_a_key_to_a_missing_object_is_refused_in_the_actions_words(world: World):
    response = world.browser("admin").post(f"/auto-attendants/{world.ivr.pk}/keys/", {
        "key_2_kind": "ring_group", "key_2_object": "ring_group:999999"})
    assert response.status_code == 400
    assert "Key 2: That ring group no longer exists." in response.content.decode()
    assert keys(world) == {}


def test_the_explainer_links_the_menu_a_number_reaches(world: World):
    do_route_number(world.account, world.number, route=f"ivr:{world.ivr.pk}")
    response = world.browser("read_only").get("/explain/",
                                              {"caller": "+14165550100", "dialed": "+14165550123"})
    assert f"/auto-attendants/{world.ivr.pk}/" in [hop.link for hop in response.context["hops"]]
