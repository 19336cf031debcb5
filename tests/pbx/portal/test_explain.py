"""The route explainer page and the destination picker's options."""

from __future__ import annotations

from tests.pbx.portal.conftest import World


def test_the_explainer_shows_each_hop_linked_to_its_object(world: World):
    response = world.browser("read_only").get("/explain/", {"caller": "1002", "dialed": "2000"})
    assert response.status_code == 200
    hops = response.context["hops"]
    assert hops[0].decision.text.startswith("Extension 1002 Bob Baker dials 2000")
    assert hops[0].link == f"/extensions/{world.spare.pk}/"
    ring = [hop for hop in hops if hop.decision.rule == "ring"]
    assert ring and "ring group 2000" in ring[0].decision.text
    assert ring[0].link == f"/ring-groups/{world.group.pk}/"
    assert f'<a href="/ring-groups/{world.group.pk}/">Rings ring group 2000' in response.content.decode()


def test_the_explainer_names_who_a_ring_group_rings_at_once(world: World):
    # As it does for one after another: "rings all at once for 25 s" alone named nobody.
    response = world.browser("admin").get("/explain/", {"caller": "1002", "dialed": "2000"})
    assert "Ring group 2000 Sales rings all at once (1001) for 25 s." in response.content.decode()


def test_the_explainer_asks_for_what_is_dialed(world: World):
    response = world.browser("admin").get("/explain/", {"caller": "1001", "dialed": ""})
    assert response.status_code == 200 and response.context["hops"] == []
    assert "This field is required." in response.content.decode()


def test_the_picker_offers_the_objects_of_one_kind(world: World):
    browser = world.browser("admin")
    body = browser.get("/destinations/options/", {"name": "fallback", "id": "id_fallback",
                                                  "fallback_kind": "extension"}).content.decode()
    assert f'value="extension:{world.extension.pk}"' in body and "ring_group:" not in body
    number = browser.get("/destinations/options/", {"name": "fallback", "id": "id_fallback",
                                                    "fallback_kind": "external"}).content.decode()
    assert 'name="fallback_number"' in number and "<select" not in number
    assert browser.get("/destinations/options/", {"name": "x y", "id": "i"}).status_code == 400
    bogus = browser.get("/destinations/options/", {"name": "f", "id": "i", "f_kind": "bogus"})
    assert bogus.status_code == 400
