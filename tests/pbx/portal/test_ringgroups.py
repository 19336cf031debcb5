"""Ring groups in the portal: member order with up/down, the loop refusal as the action
words it, and the members' own errors."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import RingGroup
from tests.pbx.portal.conftest import World
from tests.pbx.portal.test_pages import ring_group_data


def members(world: World) -> list[str]:
    with schema_context(world.account.schema_name):
        return list(RingGroup.objects.get(pk=world.group.pk).members.values_list("destination", flat=True))


def test_members_are_added_and_moved(world: World):
    browser = world.browser("admin")
    url = f"/ring-groups/{world.group.pk}/members/"
    alice, bob = f"extension:{world.extension.pk}", f"extension:{world.spare.pk}"
    browser.post(url, {"operation": "add", "destination_kind": "extension", "destination_object": bob})
    browser.post(url, {"operation": "add", "destination_kind": "external",
                       "destination_number": "+1 416 555 0100"})
    assert members(world) == [alice, bob, "external:+14165550100"]
    assert browser.post(url, {"operation": "up", "position": "2"}).status_code == 302
    assert members(world) == [alice, "external:+14165550100", bob]
    browser.post(url, {"operation": "down", "position": "0"})
    assert members(world) == ["external:+14165550100", alice, bob]
    browser.post(url, {"operation": "remove", "position": "1"})
    assert members(world) == ["external:+14165550100", bob]
    page = browser.get(f"/ring-groups/{world.group.pk}/").content.decode()
    page = page.split('<ol class="members"')[1].split("</ol>")[0]
    assert page.index("External number +14165550100") < page.index("Extension 1002 Bob Baker")



def test_a_member_twice_is_refused_in_the_actions_words(world: World):
    response = world.browser("admin").post(
        f"/ring-groups/{world.group.pk}/members/",
        {"operation": "add", "destination_kind": "extension",
         "destination_object": f"extension:{world.extension.pk}"})
    assert response.status_code == 400
    assert "Member 2: This member is already in the group." in response.content.decode()
    assert len(members(world)) == 1


def test_a_stale_position_changes_nothing(world: World):
    response = world.browser("admin").post(f"/ring-groups/{world.group.pk}/members/",
                                           {"operation": "up", "position": "7"})
    assert response.status_code == 400 and len(members(world)) == 1


def test_a_fallback_to_itself_is_refused_on_the_field(world: World):
    data = {**ring_group_data("2000", "Sales"), "fallback_kind": "ring_group",
            "fallback_object": f"ring_group:{world.group.pk}"}
    response = world.browser("admin").post(f"/ring-groups/{world.group.pk}/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "fallback" in errors, errors
    with schema_context(world.account.schema_name):
        assert RingGroup.objects.get(pk=world.group.pk).fallback == ""


def test_the_list_describes_the_fallback(world: World):
    body = world.browser("supervisor").get("/ring-groups/").content.decode()
    assert "Sales" in body and "Nobody (hang up)" in body and "Add ring group" not in body


def test_a_dragged_order_is_written_by_the_same_action(world: World):
    browser = world.browser("admin")
    url = f"/ring-groups/{world.group.pk}/members/"
    alice, bob = f"extension:{world.extension.pk}", f"extension:{world.spare.pk}"
    browser.post(url, {"operation": "add", "destination_kind": "extension", "destination_object": bob})
    browser.post(url, {"operation": "add", "destination_kind": "external",
                       "destination_number": "+1 416 555 0100"})
    page = browser.get(f"/ring-groups/{world.group.pk}/").content.decode()
    assert f'data-reorder-url="{url}"' in page and 'draggable="true" data-position="2"' in page
    assert "portal/reorder" in page  # the script, for those who may write
    response = browser.post(url, {"operation": "order", "order": "2,0,1"}, HTTP_HX_REQUEST="true")
    # The drag (htmx) gets the members' section back, in the saved order.
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section class="card" id="members-section"')
    assert members(world) == ["external:+14165550100", alice, bob]
    # A list that changed meanwhile (or a forged one) is refused, nothing moved; the
    # section comes back with the reason above the saved order (reorder.js swaps it in).
    for order in ("0,1", "0,0,1", "0,1,2,3", "2,x,1"):
        assert browser.post(url, {"operation": "order", "order": order}).status_code == 400
        refused = browser.post(url, {"operation": "order", "order": order}, HTTP_HX_REQUEST="true")
        html = refused.content.decode()
        assert refused.status_code == 400 and "<html" not in html
        assert 'role="alert"' in html and "The members changed meanwhile; reload the page." in html
        assert html.index("+14165550100") < html.index("Alice")
    assert members(world) == ["external:+14165550100", alice, bob]
    page = world.browser("read_only").get(f"/ring-groups/{world.group.pk}/").content.decode()
    assert "draggable" not in page and "portal/reorder" not in page


def test_a_member_is_turned_off_in_its_place_and_on_again(world: World):
    browser = world.browser("admin")
    url = f"/ring-groups/{world.group.pk}/members/"
    browser.post(url, {"operation": "add", "destination_kind": "extension",
                       "destination_object": f"extension:{world.spare.pk}"})

    def enabled() -> list[bool]:
        with schema_context(world.account.schema_name):
            return [m.enabled for m in RingGroup.objects.get(pk=world.group.pk).members.all()]

    before = members(world)
    assert browser.post(url, {"operation": "toggle", "position": "0"}).status_code == 302
    assert (members(world), enabled()) == (before, [False, True])
    page = browser.get(f"/ring-groups/{world.group.pk}/").content.decode()
    assert "(off)" in page and "Turn on" in page
    assert browser.post(url, {"operation": "toggle", "position": "0"}).status_code == 302
    assert enabled() == [True, True]
    assert browser.post(url, {"operation": "toggle", "position": "7"}).status_code == 400
    read_only = world.browser("read_only").get(f"/ring-groups/{world.group.pk}/").content.decode()
    assert "Turn off" not in read_only
