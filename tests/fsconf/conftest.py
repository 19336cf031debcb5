"""Shared fixtures for the FreeSWITCH-facing tests."""

from __future__ import annotations

import pytest

from carriers.actions import do_create_trunk
from pbx.actions import do_add_device, do_create_extension
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tenants.actions import do_set_domains, do_update_account
from tests.conftest import route_to
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




def acme_main_number(tree, extension: str):
    """+14165550100, as in the capture: imported by the master, handed to reseller R1,
    then by R1 to acme (C1), routed by acme to ``extension``."""
    from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
    from tests.conftest import route_to

    (number,) = do_import_numbers(tree.user("master_admin"), ["+14165550100"])
    do_assign_number(tree.user("master_admin"), number, tree.r1)
    do_assign_number(tree.user("r1_admin"), number, tree.c1)
    number.refresh_from_db()
    return do_route_number(tree.c1, number, route=route_to(tree.c1, "extension", extension))


@pytest.fixture
def platform(acme_beta, committed):
    """Acme and Beta with a main number routed to Acme's 1001, an outbound caller ID and a
    platform trunk: every request shape of the cache tests has something to answer."""
    tree = acme_beta
    master = tree.user("master_admin")
    with committed():
        (number,) = do_import_numbers(master, ["+14165550100"])
        do_assign_number(master, number, tree.r1)
        do_assign_number(tree.user("r1_admin"), number, tree.c1)
        number.refresh_from_db()
        do_route_number(tree.c1, number, route=route_to(tree.c1, "extension", "1001"))
        do_update_account(tree.user("r1_admin"), tree.c1, outbound_caller_id="+14165550100")
        do_create_trunk(master, tree.master, name="A", gateways=[{"server": "a.example.com"}])
    return tree
