"""Admin pages as people use them: the trunk page's gateway layout (it stretched to
2,576 px as one table row; checked at 1280 px in Chromium) and the link from a staff
user's page to setting their password, with that page scoped like the user."""

from __future__ import annotations

import pytest
from django.contrib import admin

from carriers.actions import GATEWAY_FIELDS
from carriers.models import Trunk
from tenants.admin import admin_site
from tests.conftest import Browser


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


class TestTrunkPage:
    def test_gateways_are_stacked_with_every_field(self, tree):
        page = admin_as(tree, "master_admin").get("/admin/carriers/trunk/add/").content.decode()
        group = page[page.index('id="gateways-group"'):]
        assert "tabular" not in group[:2000] and "<table" not in group
        assert "inline-related" in group
        for field in [*GATEWAY_FIELDS, "password", "clear_password"]:
            assert f'name="gateways-0-{field}"' in group, field

    def test_the_gateway_form_is_grouped_in_short_rows(self, tree, rf):
        """At most three fields a row (one table row held all thirteen), none left out."""
        request = rf.get("/admin/carriers/trunk/add/")
        request.user, request.session = tree.user("master_admin"), {}
        (inline,) = admin_site._registry[Trunk].get_inline_instances(request)
        assert isinstance(inline, admin.StackedInline)
        rows = [row if isinstance(row, tuple) else (row,)
                for _name, options in inline.get_fieldsets(request) for row in options["fields"]]
        assert max(len(row) for row in rows) <= 3
        every = sorted([*GATEWAY_FIELDS, "password", "clear_password"])
        assert sorted(f for row in rows for f in row) == every


class TestSetPasswordLink:
    def test_admin_sees_the_link_to_set_a_password(self, tree):
        target = tree.user("c1_admin")
        browser = admin_as(tree, "r1_admin")
        page = browser.get(f"/admin/tenants/user/{target.pk}/change/").content.decode()
        link = f'<a href="/admin/tenants/user/{target.pk}/password/">this form</a>'
        assert link in page
        assert browser.get(f"/admin/tenants/user/{target.pk}/password/").status_code == 200

    @pytest.mark.parametrize("viewer", ["r1_readonly", "r1_activation"])
    def test_staff_who_may_not_set_passwords_get_no_link(self, tree, viewer):
        target = tree.user("c1_admin")
        browser = admin_as(tree, viewer)
        page = browser.get(f"/admin/tenants/user/{target.pk}/change/").content.decode()
        assert "/password/" not in page
        assert browser.get(f"/admin/tenants/user/{target.pk}/password/").status_code == 403

    def test_another_subtrees_users_password_page_is_404(self, tree):
        browser = admin_as(tree, "r1_admin")
        for outside in ("c2_admin", "r2_admin", "master_admin"):
            pk = tree.user(outside).pk
            assert browser.get(f"/admin/tenants/user/{pk}/password/").status_code == 404
            assert browser.get(f"/admin/tenants/user/{pk}/change/").status_code == 404
