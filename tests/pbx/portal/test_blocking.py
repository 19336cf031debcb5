"""Call blocks in the portal: the action's pattern rules land on the pattern field."""

from __future__ import annotations

from django_tenants.utils import schema_context

from pbx.models import CallBlock
from tests.pbx.portal.conftest import World


def test_a_bad_pattern_is_refused_on_the_field(world: World):
    response = world.browser("admin").post("/call-blocks/add/",
                                           {"pattern": "not a number", "direction": "incoming"})
    assert response.status_code == 400
    assert response.context["form"].errors.get("pattern"), response.context["form"].errors
    with schema_context(world.account.schema_name):
        assert CallBlock.objects.count() == 1


def test_the_list_searches_patterns_and_comments(world: World):
    browser = world.browser("supervisor")
    assert "+1900*" in browser.get("/call-blocks/", {"q": "premium"}).content.decode()
    assert "+1900*" not in browser.get("/call-blocks/", {"q": "nothing-like-it"}).content.decode()
