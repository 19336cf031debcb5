"""Shared fixtures for the FreeSWITCH-facing tests."""

from __future__ import annotations

import pytest

from pbx.actions import do_add_device, do_create_extension
from tenants.actions import do_set_domains
from tests.fsconf.replay import CAPTURE_CREDENTIALS


@pytest.fixture(autouse=True)
def _capture_credentials(settings):
    settings.FREESWITCH_GATEWAY_CREDENTIALS = CAPTURE_CREDENTIALS


@pytest.fixture
def acme_beta(tree):
    """The capture's two tenants: acme (C1 under reseller R1) and beta (C2 under R2), each
    with extensions 1001 and 1002 and their captured secrets."""
    do_set_domains(tree.user("r1_admin"), tree.c1, primary="acme.example.net",
                   aliases=["acme.localhost"])
    do_set_domains(tree.user("r2_admin"), tree.c2, primary="beta.example.net")
    tree.c1.name, tree.c2.name = "Acme Corp", "Beta"
    for account, prefix in ((tree.c1, "acme"), (tree.c2, "beta")):
        for number in ("1001", "1002"):
            label = "Acme" if prefix == "acme" else "Beta"
            extension = do_create_extension(account, number=number, name=f"{label} {number}",
                                            voicemail_pin=number + "0")
            do_add_device(account, extension, secret=f"{prefix}-{number}-secret")
    return tree


