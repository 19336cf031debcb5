"""Phone numbers in the portal: routed with the picker, and the explainer follows."""

from __future__ import annotations

from tenants.models import PhoneNumber
from tests.pbx.portal.conftest import World


def test_a_number_is_routed_and_the_explainer_follows_it(world: World):
    browser = world.browser("admin")
    response = browser.post(f"/numbers/{world.number.pk}/", {
        "route_kind": "ring_group", "route_object": f"ring_group:{world.group.pk}", "privacy_screening": ""})
    assert response.status_code == 302
    world.number.refresh_from_db()
    assert world.number.route == f"ring_group:{world.group.pk}"
    listing = browser.get("/numbers/").content.decode()
    assert "+14165550123" in listing and "Ring group 2000 Sales" in listing
    assert "+14165550123" not in browser.get("/numbers/", {"routed": "false"}).content.decode()
    explained = browser.get("/explain/", {"caller": "+14165550100", "dialed": "+14165550123"})
    links = [hop.link for hop in explained.context["hops"]]
    assert f"/ring-groups/{world.group.pk}/" in links


def test_a_missing_target_is_refused_on_the_route(world: World):
    response = world.browser("admin").post(f"/numbers/{world.number.pk}/", {
        "route_kind": "ring_group", "route_object": "ring_group:999999"})
    assert response.status_code == 400
    assert response.context["form"].errors["route"] == ["That ring group no longer exists."]
    assert PhoneNumber.objects.get(pk=world.number.pk).route == ""


def test_another_accounts_number_is_not_found(world: World):
    [other] = PhoneNumber.objects.filter(pk=world.number.pk)
    attacker = world.browser("attacker", host="c2.localhost")
    assert attacker.get(f"/numbers/{other.pk}/").status_code == 404
    assert "+14165550123" not in attacker.get("/numbers/").content.decode()
