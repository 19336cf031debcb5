"""Call-record tests: the capture's tenant acme.example.net is C1 of the tree (under
reseller R1), as in tests/fsconf."""

from __future__ import annotations

import pytest

from tenants.actions import do_set_domains


@pytest.fixture(autouse=True)
def _no_credentials(settings):
    # conf A's mod_json_cdr posted without credentials; tests that check them set them.
    settings.FREESWITCH_GATEWAY_CREDENTIALS = ""


@pytest.fixture
def acme(tree):
    do_set_domains(tree.user("r1_admin"), tree.c1, primary="acme.example.net", aliases=["acme.localhost"])
    tree.c1.refresh_from_db()
    return tree
