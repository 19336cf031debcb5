"""Every portal page names its icon (an empty one for now), so a browser does not ask for
/favicon.ico, which answers 404 and put an error in the console of every page."""

from __future__ import annotations

from tests.pbx.portal.conftest import World


def test_the_portal_and_my_phone_pages_name_an_icon(world: World):
    for who, path in ((None, "/login/"), ("admin", "/"), ("end_user", "/my/")):
        response = world.browser(who).get(path)
        assert response.status_code == 200, (who, path)
        assert '<link rel="icon" href="data:,">' in response.content.decode(), (who, path)
