"""Issue 16, holes 2-4 at the xml_curl level: dialplan requests shaped as FreeSWITCH sends
them for a phone's INVITE (the captured one of 1001@acme, carrying the variables our own
directory gives the calling user), answered by the real endpoint.

2. Toll fraud: the number's region decides "domestic" (NANP spans 25 countries), premium
   rate is a permission of its own, forwards are called with the forwarding extension's
   permission.
3. The phone's SIP headers never reach a carrier; ours (Diversion, P-Asserted-Identity)
   are the only ones added.
4. ``~kind:ref`` transfer numbers are planned only when one of our transfers set the
   proof (pbx.routing.transfer_proof): never when a phone dials one."""

from __future__ import annotations

import logging

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context
from lxml import etree

from carriers.actions import do_create_trunk, do_update_trunk
from fsconf.directory_index import rebuild
from pbx.actions import (
    do_add_device,
    do_create_extension,
    do_create_ring_group,
    do_set_follow_me,
    do_set_ring_group_members,
    do_update_extension,
)
from pbx.actions.featurecodes import check_feature_code
from pbx.models import Extension
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from pbx.routing import TRANSFER_PROOF_VARIABLE, transfer_proof
from tenants.actions import do_update_account
from tenants.models import Account, AuditEvent
from tests.conftest import route_to
from tests.fsconf.replay import replay
from tests.fsconf.test_dialplan import actions
from tests.fsconf.test_outbound import dial_body
from tests.fsconf.transfers import as_our_transfer, proof_set_by

DOMAIN = "acme.example.net"
BARRED = [("hangup", "OUTGOING_CALL_BARRED")]
NOT_A_NUMBER = [("hangup", "UNALLOCATED_NUMBER")]


def lookup(dialed: str, **variables: str) -> etree._Element:
    response = replay(dial_body(dialed, **variables))
    assert response.status_code == 200
    return etree.fromstring(response.content)


def dial(dialed: str, **variables: str) -> list[tuple[str, str]]:
    return actions(lookup(dialed, **variables))


def bridge_of(found: list[tuple[str, str]]) -> str:
    return dict(found)["bridge"]


def ext(account, number: str) -> Extension:
    with schema_context(account.schema_name):
        return Extension.objects.get(number=number)


@pytest.fixture
def platform_trunk(acme_beta, committed):
    """One platform trunk (no rules: every number), acme presenting +14165550100."""
    with committed():
        do_update_account(acme_beta.user("r1_admin"), acme_beta.c1, outbound_caller_id="+14165550100")
        trunk = do_create_trunk(acme_beta.user("master_admin"), acme_beta.master, name="A",
                                gateways=[{"server": "a.carrier.example.com"}])
    acme_beta.c1.refresh_from_db()
    return trunk


def in_country(tree, committed, country: str) -> None:
    with committed():
        do_update_account(tree.user("r1_admin"), tree.c1, country=country)


def allow(tree, committed, **switches: bool) -> None:
    """Account switches (allow_international, allow_premium_rate), reseller first."""
    with committed():
        do_update_account(tree.user("master_admin"), tree.r1, **switches)
        do_update_account(tree.user("r1_admin"), tree.c1, **switches)


def nanp_examples() -> dict[str, str]:
    return {region: phonenumbers.format_number(phonenumbers.example_number(region),
                                               phonenumbers.PhoneNumberFormat.E164)
            for region in phonenumbers.region_codes_for_country_code(1)}


# --- 2. toll fraud ----------------------------------------------------------------------


@pytest.mark.parametrize("country", ["US", "CA"])
def test_only_the_accounts_own_nanp_region_is_domestic(acme_beta, platform_trunk, committed, country):
    """A domestic-permission extension (the default) of an account without international
    calling dials every NANP region's example number: its own region goes out, the 24
    others are international and barred."""
    in_country(acme_beta, committed, country)
    for region, number in sorted(nanp_examples().items()):
        found = dial(number)
        if region == country:
            assert ("set", f"outbound_number={number}") in found
            assert f"sofia/gateway/gw{platform_trunk.gateways.get().pk}/" in bridge_of(found)
        else:
            assert found == BARRED, (region, number)


@pytest.mark.parametrize("dialed", ["+18765550123", "18095550123", "+19005550123", "19765550123"])
def test_the_issues_numbers_no_longer_reach_the_carrier_from_a_us_account(acme_beta, platform_trunk,
                                                                         dialed):
    found = dial(dialed)
    # Jamaica, the Dominican Republic: international; +1 900: premium rate; +1 976: no
    # such range (refused as not a number).
    assert found == (NOT_A_NUMBER if "976" in dialed else BARRED)
    assert "gateway" not in str(found)


def test_international_calling_then_reaches_the_caribbean(acme_beta, platform_trunk, committed):
    allow(acme_beta, committed, allow_international=True)
    assert dial("+18765550123") == BARRED  # the extension's own permission is domestic
    with committed():
        do_update_extension(acme_beta.c1, ext(acme_beta.c1, "1001"), call_permission="international")
    assert "sofia/gateway/" in bridge_of(dial("+18765550123"))


class TestPremiumRate:
    def test_needs_the_account_and_the_extension(self, acme_beta, platform_trunk, committed):
        premium = "+19005550123"
        assert dial(premium) == BARRED
        allow(acme_beta, committed, allow_premium_rate=True)
        assert dial(premium) == BARRED  # the extension has not got it
        with committed():
            do_update_extension(acme_beta.c1, ext(acme_beta.c1, "1001"), allow_premium_rate=True)
        assert "sofia/gateway/" in bridge_of(dial(premium))
        # Premium-rate never widens the classes: a UK premium number is international too.
        assert dial("+449012345678") == BARRED

    def test_the_directory_says_premium_only_when_both_allow_it(self, acme_beta, platform_trunk, committed):
        from tests.fsconf.test_outbound import directory_variables

        with committed():
            do_update_extension(acme_beta.c1, ext(acme_beta.c1, "1001"), allow_premium_rate=True)
        assert directory_variables(DOMAIN, "1001")["toll_allow"] == "local,domestic"
        allow(acme_beta, committed, allow_premium_rate=True)
        assert directory_variables(DOMAIN, "1001")["toll_allow"] == "local,domestic,premium"

    def test_a_sub_account_stays_within_its_resellers_premium_rate(self, acme_beta, committed):
        with pytest.raises(ValidationError) as refused:
            do_update_account(acme_beta.user("master_admin"), Account.objects.get(pk=acme_beta.c1.pk),
                              allow_premium_rate=True)
        assert refused.value.message_dict["allow_premium_rate"] == [
            f"{acme_beta.r1.name} may not call premium-rate numbers itself."]
        allow(acme_beta, committed, allow_premium_rate=True, allow_international=True)
        with committed():
            do_update_account(acme_beta.user("master_admin"), acme_beta.r1, allow_premium_rate=False)
        acme_beta.c1.refresh_from_db()
        # Withdrawn below too (audited), international untouched.
        assert (acme_beta.c1.allow_premium_rate, acme_beta.c1.allow_international) == (False, True)
        assert AuditEvent.objects.filter(account=acme_beta.c1, action="account.update",
                                         details__changed={"allow_premium_rate": "False"}).exists()


class TestForwardTargets:
    """*71-*73, the admin's forward fields and follow-me steps: a number the extension may
    not call itself is refused when saved, saying why."""

    def test_star71_to_a_caribbean_number_is_refused(self, acme_beta, platform_trunk):
        with pytest.raises(ValidationError) as refused:
            check_feature_code(acme_beta.c1, ext(acme_beta.c1, "1001"), "all", "18765550123")
        (message,) = refused.value.message_dict["forward_all_to"]
        assert message.startswith("Extension 1001 may not call +18765550123")
        assert "JM" in message and "may not forward there" in message

    def test_star71_to_a_number_no_region_holds_is_refused(self, acme_beta, platform_trunk):
        with pytest.raises(ValidationError) as refused:
            check_feature_code(acme_beta.c1, ext(acme_beta.c1, "1001"), "all", "19765550123")
        assert "not a valid number" in refused.value.message_dict["forward_all_to"][0]

    def test_the_admins_forward_fields(self, acme_beta, platform_trunk):
        alice = ext(acme_beta.c1, "1001")
        with pytest.raises(ValidationError) as refused:
            do_update_extension(acme_beta.c1, alice, forward_busy=True,
                                forward_busy_to="external:+19005550123")
        assert "premium-rate" in refused.value.message_dict["forward_busy_to"][0]
        do_update_extension(acme_beta.c1, alice, forward_busy=True, forward_busy_to="external:+12125550123")
        # Lowering the permission re-checks the forwards that are on.
        with pytest.raises(ValidationError) as refused:
            do_update_extension(acme_beta.c1, alice, call_permission="internal")
        assert "forward_busy_to" in refused.value.message_dict

    def test_follow_me_steps(self, acme_beta, platform_trunk):
        alice = ext(acme_beta.c1, "1001")
        with pytest.raises(ValidationError) as refused:
            do_set_follow_me(acme_beta.c1, alice, steps=[{"targets": ["external:+18095550123"]}])
        assert refused.value.message_dict["steps"][0].startswith(
            "Step 1, target 1: Extension 1001 may not call +18095550123")


def test_a_forward_calls_out_with_the_forwarding_extensions_permission(acme_beta, platform_trunk,
                                                                       committed):
    """A forward saved before these checks (written around the actions) to a number its
    extension may not call: the call is barred, where it used to go out on the account's
    permission through a ``~external:`` transfer."""
    acme = acme_beta.c1
    with committed():
        do_update_extension(acme, ext(acme, "1002"), call_permission="internal")
    with schema_context(acme.schema_name):
        Extension.objects.filter(number="1002").update(forward_all=True,
                                                       forward_all_to="external:+12125550123")
    rebuild(acme)  # the public index the dialplan reads, as an action would leave it
    assert dial("1002") == BARRED
    with committed():
        do_update_extension(acme, ext(acme, "1002"), call_permission="domestic")
    assert "sofia/gateway/" in bridge_of(dial("1002"))


# --- 3. headers to the carrier -----------------------------------------------------------


PHONE_HEADERS = {"sip_h_Diversion": "<sip:+16045550199@beta.example.net>;reason=unconditional",
                 "sip_h_X-Bill-To": "beta", "sip_h_P-Charge-Info": "<sip:+16045550199@beta.example.net>"}


def test_outbound_legs_carry_none_of_the_phones_headers(acme_beta, platform_trunk):
    """FreeSWITCH copies the calling leg's sip_h_* unless sip_copy_custom_headers is
    false on it (mod_sofia.c sofia_outgoing_channel): it is set before the bridge."""
    root = lookup("+12125550123", **PHONE_HEADERS)
    found = actions(root)
    names = [data for application, data in found if application == "set"]
    bridge_at = [application for application, _ in found].index("bridge")
    assert found.index(("set", "sip_copy_custom_headers=false")) < bridge_at
    assert found.index(("set", "sip_copy_multipart=false")) < bridge_at
    answer = etree.tostring(root).decode()
    assert "beta" not in answer and "X-Bill-To" not in answer and "Diversion" not in answer
    assert not any(name.startswith("sip_h_") for name in names)


def test_a_forwarded_call_carries_our_diversion_with_the_extensions_did(acme_beta, platform_trunk,
                                                                        committed):
    acme = acme_beta.c1
    master = acme_beta.user("master_admin")
    with committed():
        (number,) = do_import_numbers(master, ["+14165550177"])
        do_assign_number(master, number, acme_beta.r1)
        do_assign_number(acme_beta.user("r1_admin"), number, acme)
        number.refresh_from_db()
        do_route_number(acme, number, route=route_to(acme, "extension", "1002"))
        do_update_extension(acme, ext(acme, "1002"), forward_all=True, forward_all_to="external:+12125550123")
    found = dial("1002", **PHONE_HEADERS)
    bridge = bridge_of(found)
    assert bridge.startswith("{sip_h_Diversion=<sip:+14165550177@acme.example.net>;reason=unconditional;"
                             "counter=1}[")
    assert "beta" not in bridge
    assert ("set", "sip_copy_custom_headers=false") in found


def test_p_asserted_identity_only_where_the_trunk_wants_it(acme_beta, platform_trunk, committed):
    with committed():
        other = do_create_trunk(acme_beta.user("master_admin"), acme_beta.master, name="B", weight_cost=90,
                                gateways=[{"server": "b.carrier.example.com"}])
        do_update_trunk(acme_beta.user("master_admin"), other, send_asserted_identity=True)
    first, second = bridge_of(dial("+12125550123", **PHONE_HEADERS)).split("|")
    assert "sip_cid_type" not in first and "sofia/gateway/gw" in first
    assert "sip_cid_type=pid" in second and f"gw{other.gateways.get().pk}/" in second


def test_a_ring_group_with_an_outside_member_does_not_copy_the_phones_headers(acme_beta, platform_trunk):
    acme = acme_beta.c1
    group = do_create_ring_group(acme, number="2000", name="Sales")
    do_set_ring_group_members(acme, group, [(route_to(acme, "extension", "1002"), None, True),
                                            ("external:+12125550123", None, True)])
    found = dial("2000", **PHONE_HEADERS)
    assert ("set", "sip_copy_custom_headers=false") in found
    assert "sofia/gateway/" in bridge_of(found)


# --- 4. internal transfer numbers ----------------------------------------------------------


@pytest.fixture
def everything_allowed(acme_beta, platform_trunk, committed):
    """Even an extension with every permission cannot dial a transfer number."""
    allow(acme_beta, committed, allow_international=True, allow_premium_rate=True)
    with committed():
        do_update_extension(acme_beta.c1, ext(acme_beta.c1, "1001"), call_permission="international",
                            allow_premium_rate=True)
    return acme_beta


def transfer_numbers(tree) -> list[str]:
    acme = tree.c1
    return ["~external:+14165550199", "~external:+18765550123",
            f"~after:USER_BUSY:{route_to(acme, 'extension', '1002')}",
            f"~{route_to(acme, 'extension', '1002')}", f"~{route_to(acme, 'voicemail', '1002')}",
            "~check_voicemail", "~hangup:NORMAL_CLEARING"]


def test_a_phone_dialing_a_transfer_number_gets_nothing(everything_allowed, caplog):
    for number in transfer_numbers(everything_allowed):
        with caplog.at_level(logging.WARNING, logger="fsconf.sections.dialplan"):
            assert dial(number) == NOT_A_NUMBER, number
        assert any(number in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)


def test_forged_proofs_are_refused(everything_allowed):
    number = "~external:+14165550199"
    acme_proof = transfer_proof(DOMAIN, number)
    forged = {
        "made up": {TRANSFER_PROOF_VARIABLE: ".0123456789abcdef0123456789abcdef"},
        "for another number": as_our_transfer(DOMAIN, "~external:+14165550100"),
        "for another tenant's context": as_our_transfer("beta.example.net", number),
        "claiming an extension": {TRANSFER_PROOF_VARIABLE: "5" + acme_proof},
        # A phone can send any header; it becomes sip_h_*, never our variable.
        "as a SIP header": {f"sip_h_X-{TRANSFER_PROOF_VARIABLE}": acme_proof,
                            f"sip_h_{TRANSFER_PROOF_VARIABLE}": acme_proof},
    }
    for why, variables in forged.items():
        assert dial(number, **variables) == NOT_A_NUMBER, why
    assert "sofia/gateway/" in bridge_of(dial(number, **as_our_transfer(DOMAIN, number)))


def test_our_own_transfers_still_work_and_prove_themselves(acme_beta, platform_trunk):
    """The document that transfers sets the proof first; the next lookup plans the number
    with it, whatever the disposition FreeSWITCH puts into ``~after:``."""
    root = lookup("1002")
    proof = proof_set_by(root)
    assert proof and root.xpath("//extension[@name='switchboard-transfer']/@continue") == ["true"]
    after = f"~after:USER_BUSY:{route_to(acme_beta.c1, 'extension', '1002')}"
    assert dial(after) == NOT_A_NUMBER
    found = dial(after, **{TRANSFER_PROOF_VARIABLE: proof})
    assert ("voicemail", f"default {DOMAIN} 1002") in found  # busy: 1002's voicemail


def test_an_outside_number_sent_on_for_an_extension_uses_its_permission(acme_beta, platform_trunk,
                                                                        committed):
    """``~external:`` from a follow-me's fallback carries the extension it is made for:
    an internal-only extension's follow-me cannot reach a carrier, a configured route
    (the account's permission) can."""
    acme = acme_beta.c1
    with committed():
        lobby = do_create_extension(acme, number="1003", name="Lobby", call_permission="internal")
        do_add_device(acme, lobby, secret="lobby-secret")
    number = "~external:+12125550123"
    assert dial(number, **as_our_transfer(DOMAIN, number, on_behalf=lobby.pk)) == BARRED
    assert "sofia/gateway/" in bridge_of(dial(number, **as_our_transfer(DOMAIN, number)))
    assert "sofia/gateway/" in bridge_of(
        dial(number, **as_our_transfer(DOMAIN, number, on_behalf=ext(acme, "1001").pk)))
