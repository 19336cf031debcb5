"""One numbering plan per tenant: extensions, ring groups, conference rooms and IVRs."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from pbx.actions import (
    do_create_conference_room,
    do_create_ivr,
    do_create_ring_group,
    do_create_voicemail_box,
    do_update_conference_room,
    do_update_extension,
    do_update_ivr,
    do_update_ring_group,
)
from pbx.models import VoicemailBox
from pbx.numbering import number_owner
from tests.pbx.routing_helpers import extension, last_event, refused, reload


@pytest.mark.parametrize("make", [
    lambda account: do_create_ring_group(account, number="1001", name="Sales"),
    lambda account: do_create_conference_room(account, number="1001", name="Board"),
    lambda account: do_create_ivr(account, number="1001", name="Main menu"),
])
def test_an_extension_number_is_refused_to_every_other_kind(tree, make):
    extension(tree.c1, "1001", "Alice")
    with refused("number") as error:
        make(tree.c1)
    assert error.messages == ["1001 is already used by Extension 1001 Alice."]


def test_each_kind_holds_its_number_against_the_others(tree):
    do_create_ring_group(tree.c1, number="2000", name="Sales")
    do_create_conference_room(tree.c1, number="3000", name="Board")
    do_create_ivr(tree.c1, number="4000", name="Main menu")
    with refused("number") as error:
        extension(tree.c1, "2000")
    assert error.messages == ["2000 is already used by Ring group 2000 Sales."]
    with refused("number") as error:
        do_create_ring_group(tree.c1, number="3000", name="Support")
    assert error.messages == ["3000 is already used by Conference room 3000 Board."]
    with refused("number") as error:
        do_create_conference_room(tree.c1, number="4000", name="Other")
    assert error.messages == ["4000 is already used by Auto attendant (IVR) 4000 Main menu."]


def test_number_owner_names_what_uses_a_number(tree):
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    with schema_context(tree.c1.schema_name):
        assert number_owner("2000") == "Ring group 2000 Sales"
        assert number_owner("2000", exclude=group) is None
        assert number_owner("2001") is None


def test_voicemail_boxes_are_not_in_the_plan(tree):
    do_create_voicemail_box(tree.c1, number="5000", name="General", pin="8642")
    group = do_create_ring_group(tree.c1, number="5000", name="Sales")
    assert group.number == "5000"
    with schema_context(tree.c1.schema_name):
        assert number_owner("5000") == "Ring group 5000 Sales"


def test_emergency_numbers_of_the_account_country_are_refused(tree):
    tree.c1.country = "GB"
    tree.c1.save(update_fields=["country"])
    with refused("number") as error:
        do_create_ring_group(tree.c1, number="999", name="Sales")
    assert error.messages == ["999 is an emergency number in GB."]
    with refused("number"):
        extension(tree.c1, "112")
    # 911 is no emergency number in GB: any kind may use it there.
    assert do_create_conference_room(tree.c1, number="911", name="Board").number == "911"


def test_feature_codes_are_refused(tree):
    with refused("number") as error:
        do_create_ring_group(tree.c1, number="*97", name="Sales")
    assert error.messages == ["Numbers starting with * are feature codes."]


def test_renumbering_checks_the_plan_but_not_against_itself(tree):
    extension(tree.c1, "1001")
    group = do_create_ring_group(tree.c1, number="2000", name="Sales")
    room = do_create_conference_room(tree.c1, number="3000", name="Board")
    ivr = do_create_ivr(tree.c1, number="4000", name="Main")
    with refused("number"):
        do_update_ring_group(tree.c1, group, number="1001")
    with refused("number"):
        do_update_conference_room(tree.c1, room, number="2000")
    with refused("number"):
        do_update_ivr(tree.c1, ivr, number="3000")
    assert do_update_ring_group(tree.c1, group, number="2000", name="Sales team").name == "Sales team"
    assert do_update_ring_group(tree.c1, group, number="2100").number == "2100"
    assert do_update_ivr(tree.c1, ivr, number="").number is None


def test_an_extension_can_be_renumbered_and_its_box_follows(tree):
    ext = extension(tree.c1, "1001")
    do_create_ring_group(tree.c1, number="2000", name="Sales")
    with refused("number") as error:
        do_update_extension(tree.c1, ext, number="2000")
    assert "Ring group 2000 Sales" in error.messages[0]
    with refused("number"):
        do_update_extension(tree.c1, ext, number="911")
    do_update_extension(tree.c1, ext, number="1011")
    assert reload(tree.c1, ext).number == "1011"
    with schema_context(tree.c1.schema_name):
        assert VoicemailBox.objects.get(extension_id=ext.pk).number == "1011"
    assert last_event(tree.c1, "extension.update").details["old_number"] == "1001"


def test_the_plan_is_per_tenant(tree):
    extension(tree.c1, "1001")
    assert do_create_ring_group(tree.c2, number="1001", name="Sales").number == "1001"


def test_a_pickup_code_holds_its_digits(tree):
    do_create_ring_group(tree.c1, number="2000", name="Sales", pickup_code="*83000")
    with refused("number") as error:
        extension(tree.c1, "3000")
    assert error.messages == ["3000 is already used by the pickup code *83000 of Ring group 2000 Sales."]
