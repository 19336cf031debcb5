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


# --- an extension's own blocks ------------------------------------------------------------


def test_the_admin_blocks_for_one_extension_from_its_page_and_the_list_shows_the_scope(world: World):
    from pbx.actions import do_add_call_block

    browser = world.browser("admin")
    edit = f"/extensions/{world.extension.pk}/"
    page = browser.get(edit).content.decode()
    assert "Call blocks of this extension" in page and "None: only the whole account" in page
    add = f"/call-blocks/add/?extension={world.extension.pk}"
    assert add in page
    form = browser.get(add).context["form"]
    assert form.initial["extension"] == world.extension.pk
    response = browser.post(add, {"pattern": "+1 212 555 1234", "direction": "both",
                                  "extension": str(world.extension.pk), "comment": "Ex"})
    assert response.status_code == 302
    with schema_context(world.account.schema_name):
        block = CallBlock.objects.get(pattern="+12125551234")
    assert block.extension_id == world.extension.pk
    assert "+12125551234" in browser.get(edit).content.decode()
    # The same number twice for one extension: the action's refusal, on the field.
    again = browser.post(add, {"pattern": "2125551234", "direction": "incoming",
                               "extension": str(world.extension.pk)})
    assert again.status_code == 400 and "already blocked" in str(again.context["form"].errors["pattern"])
    do_add_call_block(world.account, pattern="+12125551234", extension=world.spare)

    listed = browser.get("/call-blocks/").content.decode()
    assert "Whole account" in listed and "Extension 1001" in listed and "Extension 1002" in listed
    only_1001 = browser.get("/call-blocks/", {"extension": world.extension.pk}).content.decode()
    assert "Extension 1001" in only_1001 and "+1900*" not in only_1001 and "Extension 1002" not in only_1001
    account_wide = browser.get("/call-blocks/", {"extension": "null"}).content.decode()
    assert "+1900*" in account_wide and "+12125551234" not in account_wide


def test_read_only_sees_an_extensions_blocks_without_buttons(world: World):
    from pbx.actions import do_add_call_block

    block = do_add_call_block(world.account, pattern="+12125551234", extension=world.extension)
    page = world.browser("read_only").get(f"/extensions/{world.extension.pk}/").content.decode()
    assert "+12125551234" in page
    assert "Add call block for" not in page and f"/call-blocks/{block.pk}/delete/" not in page
