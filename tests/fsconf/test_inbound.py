"""Inbound carrier calls: the DID index (public schema) routes the public context."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from lxml import etree

from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from pbx.routing import TRANSFER_PROOF_VARIABLE
from tenants.actions import do_suspend_account
from tests.conftest import route_to
from tests.fsconf.replay import Captured, replay, request, response
from tests.fsconf.test_dialplan import actions, call, rings
from tests.fsconf.transfers import proof_set_by

DID = "dialplan-public-did-14165550100-external-profile"


@pytest.fixture
def did(acme_beta):
    """+14165550100: imported by the master, assigned to reseller R1, then by R1 to acme
    (C1), routed by acme to extension 1001 — as in the capture."""
    (number,) = do_import_numbers(acme_beta.user("master_admin"), ["+1 416 555 0100"])
    do_assign_number(acme_beta.user("master_admin"), number, acme_beta.r1)
    number.refresh_from_db()
    do_assign_number(acme_beta.user("r1_admin"), number, acme_beta.c1)
    number.refresh_from_db()
    return do_route_number(acme_beta.c1, number, route=route_to(acme_beta.c1, "extension", "1001"))


def inbound(dialed: str = "14165550100") -> etree._Element:
    captured = request(DID)
    body = captured.body.replace(b"Destination-Number=14165550100", f"Destination-Number={dialed}".encode())
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    assert result.status_code == 200
    return etree.fromstring(result.content)


def captured_actions() -> list[tuple[str, str]]:
    root = etree.fromstring(response(DID).body)
    return [(a.get("application"), a.get("data")) for a in root.iter("action")]


def test_did_transfers_into_the_tenant_like_the_capture(did):
    root = inbound()
    assert root.find(".//context").get("name") == "public"
    assert actions(root) == captured_actions() == [
        ("set", "domain_name=acme.example.net"), ("transfer", "1001 XML acme.example.net")]


def test_plus_form_of_the_did(did):
    assert actions(inbound("%2B14165550100")) == captured_actions()


def test_the_transferred_call_rings_the_extension(did, acme_beta):
    root = etree.fromstring(replay(request("dialplan-acme-1001-after-did-transfer")).content)
    assert root.find(".//context").get("name") == "acme.example.net"
    assert rings(acme_beta.c1, "1001") in actions(root)


def test_other_routes_go_on_in_the_tenant_context(did, acme_beta):
    """Every route is planned in the tenant's context (under its call limit) by the
    same code as internal calls: the DID only hands the call over."""
    box = route_to(acme_beta.c1, "voicemail", "1002")
    do_route_number(acme_beta.c1, did, route=box)
    root = inbound()
    assert actions(root) == [("set", "domain_name=acme.example.net"),
                             ("transfer", f"~{box} XML acme.example.net")]
    assert root.find(".//action[@application='limit']") is None
    # The transfer's proof (pbx.routing.transfer_proof) goes with the call, as FreeSWITCH
    # carries the channel variable the document set.
    proof = f"&variable_{TRANSFER_PROOF_VARIABLE}={quote(proof_set_by(root), safe='')}"
    handed_over = call("dialplan-acme-1001-to-1002",
                       **{"Destination-Number=1002": f"Destination-Number=~{box}",
                          "&variable_sip_from_user=": proof + "&variable_sip_from_user="})
    assert actions(handed_over) == [("answer", ""), ("voicemail", "default acme.example.net 1002")]
    assert handed_over.find(".//action[@application='limit']") is not None


@pytest.mark.parametrize("dialed", ["16045550000", "999", "abc", ""])
def test_unknown_numbers_are_unallocated(did, dialed):
    if not dialed:
        captured = request(DID)
        body = captured.body.replace(b"Destination-Number=14165550100", b"Destination-Number=")
        result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
        assert b'status="not found"' in result.content
        return
    assert actions(inbound(dialed)) == [("hangup", "UNALLOCATED_NUMBER")]


def test_number_still_in_the_pool_is_unallocated(acme_beta):
    do_import_numbers(acme_beta.user("master_admin"), ["+14165550100"])
    assert actions(inbound()) == [("hangup", "UNALLOCATED_NUMBER")]


def test_suspended_tenant_rejects_its_dids(did, acme_beta):
    do_suspend_account(acme_beta.user("master_admin"), acme_beta.r1)
    assert actions(inbound()) == [("hangup", "CALL_REJECTED")]


class TestNumberRules:
    def test_only_the_master_imports(self, acme_beta):
        with pytest.raises(PermissionDenied):
            do_import_numbers(acme_beta.user("r1_admin"), ["+14165550101"])

    def test_import_refuses_invalid_and_duplicates_with_field_errors(self, acme_beta):
        do_import_numbers(acme_beta.user("master_admin"), ["+14165550101"])
        with pytest.raises(ValidationError) as exc:
            do_import_numbers(acme_beta.user("master_admin"), ["+14165550101", "12", "+1416555010"])
        assert len(exc.value.message_dict["numbers"]) == 3

    def test_only_the_holder_hands_a_number_on(self, did, acme_beta):
        with pytest.raises(PermissionDenied):
            do_assign_number(acme_beta.user("r1_admin"), did, acme_beta.r1a)  # acme holds it now
        with pytest.raises(Exception):  # noqa: B017  (NotInSubtree: R2 cannot see acme)
            do_assign_number(acme_beta.user("r2_admin"), did, acme_beta.c2)

    def test_reassigning_clears_the_route(self, did, acme_beta):
        did.account = acme_beta.r1
        did.save()
        do_assign_number(acme_beta.user("r1_admin"), did, acme_beta.c1)
        did.refresh_from_db()
        assert did.route == ""

    def test_route_must_name_an_extension_of_the_owner(self, did, acme_beta):
        with pytest.raises(ValidationError) as exc:
            do_route_number(acme_beta.c1, did, route="extension:999999")
        assert "route" in exc.value.message_dict
        with pytest.raises(PermissionDenied):
            do_route_number(acme_beta.c2, did, route=route_to(acme_beta.c1, "extension", "1001"))


def test_purging_an_account_returns_its_numbers_upward(did, acme_beta):
    from tenants.actions import do_purge_account, do_soft_delete_account

    do_soft_delete_account(acme_beta.user("r1_admin"), acme_beta.c1)
    assert actions(inbound()) == [("hangup", "UNALLOCATED_NUMBER")]  # deleted: not served
    from django.db import connection

    with connection.cursor() as cursor:
        # The fixture created this tenant's rows in the same (test) transaction: fire its
        # deferred FK checks, or PostgreSQL refuses to drop tables with pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    do_purge_account(acme_beta.c1)
    did.refresh_from_db()
    assert (did.account, did.route) == (acme_beta.r1, "")


def test_a_number_listed_twice_is_a_field_error(acme_beta):
    with pytest.raises(ValidationError) as exc:
        do_import_numbers(acme_beta.user("master_admin"), ["+14165550101", "+1 416 555 0101"])
    assert "more than once" in exc.value.message_dict["numbers"][0]


def test_released_number_stops_reaching_the_old_tenant(did, acme_beta, committed):
    from pbx.numbers import do_release_number

    assert actions(inbound()) == captured_actions()
    with committed():
        released = do_release_number(acme_beta.user("c1_admin"), did)
    # Back with the reseller that handed it down, unrouted: no call reaches acme through it.
    assert (released.account, released.route) == (acme_beta.r1, "")
    assert actions(inbound()) == [("hangup", "UNALLOCATED_NUMBER")]
    with committed():
        released = do_release_number(acme_beta.user("r1_admin"), released)
    assert released.account is None  # a direct child of the master gives it to the pool
    with pytest.raises(ValidationError):
        do_release_number(acme_beta.user("master_admin"), released)


def test_nobody_outside_the_holders_branch_can_release_it(did, acme_beta):
    from pbx.numbers import do_release_number
    from tenants.scoping import NotInSubtree

    for outsider in ("r2_admin", "c2_admin", "c0_admin"):
        with pytest.raises(NotInSubtree):
            do_release_number(acme_beta.user(outsider), did)
    with pytest.raises(PermissionDenied):
        do_release_number(acme_beta.user("r1_readonly"), did)
    did.refresh_from_db()
    assert did.account == acme_beta.c1 and did.route == route_to(acme_beta.c1, "extension", "1001")


def test_numbers_go_one_step_down_and_only_by_admins(acme_beta):
    from tenants.scoping import NotInSubtree

    master, r1_admin = acme_beta.user("master_admin"), acme_beta.user("r1_admin")
    (number,) = do_import_numbers(master, ["+14165550177"])
    with pytest.raises(ValidationError):
        do_assign_number(master, number, acme_beta.c1a)  # two levels down
    with pytest.raises(ValidationError):
        do_assign_number(master, number, acme_beta.master)
    number = do_assign_number(master, number, acme_beta.r1)
    with pytest.raises(PermissionDenied):
        do_assign_number(acme_beta.user("r1_readonly"), number, acme_beta.c1)
    with pytest.raises(ValidationError):
        do_assign_number(r1_admin, number, acme_beta.c1a)  # below r1a, not r1
    with pytest.raises(NotInSubtree):
        do_route_number(acme_beta.r1, number, route=route_to(acme_beta.c1, "extension", "1001"),
                        actor=acme_beta.user("r2_admin"))
    with pytest.raises(ValidationError):
        do_import_numbers(master, ["", "  "])


def test_route_can_be_cleared_and_read_only_staff_cannot_route(did, acme_beta):
    with pytest.raises(PermissionDenied):
        do_route_number(acme_beta.c1, did, route=route_to(acme_beta.c1, "voicemail", "1001"),
                        actor=acme_beta.user("r1_readonly"))
    cleared = do_route_number(acme_beta.c1, did, route="", actor=acme_beta.user("c1_admin"))
    assert cleared.route == ""
    assert actions(inbound()) == [("hangup", "UNALLOCATED_NUMBER")]
