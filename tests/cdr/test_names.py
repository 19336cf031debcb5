"""Names beside the numbers in call history (cdr.names), in the API and the portal: the
extension, the DID, the trunk and gateway, the destination; "(deleted)" for an object
gone; a trunk named only to its owner and above; and a page's query count that does not
grow with its rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carriers.actions import do_create_trunk
from pbx.actions import do_create_extension, do_create_ivr, do_create_ring_group, do_delete_ring_group
from pbx.numbers import do_assign_number, do_import_numbers, do_route_number
from tenants.models import PhoneNumber
from tests.cdr.legs import call, leg, put
from tests.conftest import Browser
from tests.switchboard.api.client import Api, accounts_url, body, key_for

NOW = timezone.now().replace(microsecond=0)
DID = "+12125550142"
GONE_DID = "+12125550199"


def office(tree):
    """C1 with extensions 1001 Alice and 1002 Bob, ring group 2000 Sales, ring group 2001
    (deleted), auto attendant Main on DID, and the master's trunk with one gateway."""
    m = tree.user("master_admin")
    do_create_extension(tree.c1, number="1001", name="Alice")
    do_create_extension(tree.c1, number="1002", name="Bob")
    do_create_ring_group(tree.c1, number="2000", name="Sales")
    gone = do_create_ring_group(tree.c1, number="2001", name="Old sales")
    do_delete_ring_group(tree.c1, gone)
    main = do_create_ivr(tree.c1, name="Main")
    do_import_numbers(m, [DID])
    number = PhoneNumber.objects.get(e164=DID)
    do_assign_number(m, number, tree.r1)
    do_assign_number(tree.user("r1_admin"), number, tree.c1)
    do_route_number(tree.c1, PhoneNumber.objects.get(e164=DID), route=f"ivr:{main.pk}")
    trunk = do_create_trunk(m, tree.master, name="Carrier X",
                            gateways=[{"server": "sip.carrier.example.com"}])
    return trunk, trunk.gateways.get()


def legs_of(tree, trunk, gateway, at):
    """One of each shape at ``at``: their a-legs' uuids by shape."""
    shapes = {}
    shapes["internal"] = call(tree.c1, start_at=at, talk=5, caller="1001", callee="1002")[0]
    shapes["ring group"] = call(tree.c1, start_at=at, talk=5, caller="1001", callee="2000",
                                destination_kind="ring_group")[0]
    shapes["deleted group"] = call(tree.c1, start_at=at, talk=5, caller="1002", callee="2001",
                                   destination_kind="ring_group")[0]
    shapes["gone extension"] = call(tree.c1, start_at=at, talk=5, caller="1009", callee="1002")[0]
    inbound = leg(tree.c1, start_at=at, talk=5, did=DID, public_inbound=True, extension="",
                  callee_number=DID, caller_number="+13055550100", destination_kind="ivr")
    released = leg(tree.c1, start_at=at, talk=5, did=GONE_DID, public_inbound=True, extension="",
                   callee_number=GONE_DID, caller_number="+13055550100", destination_kind="extension")
    outbound = leg(tree.c1, start_at=at, talk=5, extension="1001", callee_number="+442071234567",
                   destination_kind="outbound", gateway=gateway.freeswitch_name,
                   outbound_number="+442071234567")
    for fields in (inbound, released, outbound):
        assert put(fields)
    shapes.update({"inbound": inbound, "released": released, "outbound": outbound})
    return {name: str(fields.leg_uuid) for name, fields in shapes.items()}


def listed(api, account, query="") -> dict[str, dict]:
    answer = api.send("get", accounts_url(account, "calls") + query)
    assert answer.status_code == 200, body(answer)
    return {row["leg_uuid"]: row for row in body(answer)["results"]}


def test_history_names_what_the_records_number(tree):
    trunk, gateway = office(tree)
    uuids = legs_of(tree, trunk, gateway, NOW - timedelta(minutes=5))
    rows = listed(Api(token=key_for(tree.user("c1_admin"))), tree.c1)

    def labels(shape):
        row = rows[uuids[shape]]
        return row["extension_label"], row["did_label"], row["trunk_label"], row["destination_label"]

    assert labels("internal") == ("1001 Alice", "", "", "Extension 1002 Bob")
    assert labels("ring group") == ("1001 Alice", "", "", "Ring group Sales")
    assert labels("deleted group") == ("1002 Bob", "", "", "Ring group 2001 (deleted)")
    assert labels("gone extension") == ("1009 (deleted)", "", "", "Extension 1002 Bob")
    assert labels("inbound") == ("", DID, "", "Auto attendant Main")
    assert labels("released") == ("", f"{GONE_DID} (deleted)", "", "Extension")
    # The master's trunk is not named to its customer ...
    assert labels("outbound") == ("1001 Alice", "", "Provider's trunk", "Outside call")
    # ... but is to the master, with the gateway the leg went through.
    as_master = listed(Api(token=key_for(tree.user("master_admin"))), tree.c1)
    assert as_master[uuids["outbound"]]["trunk_label"] == "Carrier X · sip.carrier.example.com:5060"
    assert {row["account_label"] for row in rows.values()} == {"C1"}
    # A reseller's history names the account of each leg (its subtree's).
    as_reseller = listed(Api(token=key_for(tree.user("r1_admin"))), tree.r1)
    assert as_reseller[uuids["ring group"]]["account_label"] == "C1"
    reseller_page = Browser("r1.localhost").login_as(tree.user("r1_admin")).get("/calls/").content.decode()
    row = reseller_page.split(f'data-leg="{uuids["ring group"]}"')[1].split("</tr>")[0]
    assert '<td data-label="Account">C1</td>' in row
    # The CSV export carries them too, after the stored numbers.
    c1_api = Api(token=key_for(tree.user("c1_admin")))
    exported = c1_api.send("get", accounts_url(tree.c1, "calls") + "export.csv")
    table = {row["leg_uuid"]: row for row in csv.DictReader(io.StringIO(
        b"".join(exported.streaming_content).decode()))}
    assert (table[uuids["ring group"]]["extension"], table[uuids["ring group"]]["extension_name"],
            table[uuids["ring group"]]["destination_name"]) == ("1001", "1001 Alice", "Ring group Sales")
    assert table[uuids["outbound"]]["trunk_name"] == "Provider's trunk"
    # The portal's table shows the same names.
    page = Browser("c1.localhost").login_as(tree.user("c1_admin")).get("/calls/").content.decode()
    row = page.split(f'data-leg="{uuids["ring group"]}"')[1].split("</tr>")[0]
    assert '<td data-label="Extension">1001 Alice</td>' in row
    assert '<td data-label="Destination">Ring group Sales</td>' in row
    row = page.split(f'data-leg="{uuids["inbound"]}"')[1].split("</tr>")[0]
    assert '<td data-label="Destination">Auto attendant Main</td>' in row


def test_a_page_of_names_costs_the_same_queries_whatever_its_rows(tree):
    trunk, gateway = office(tree)
    legs_of(tree, trunk, gateway, NOW - timedelta(minutes=30))
    browser = Browser("c1.localhost").login_as(tree.user("c1_admin"))
    browser.get("/calls/")
    with CaptureQueriesContext(connection) as one_round:
        browser.get("/calls/")
    for minutes in (20, 10):
        legs_of(tree, trunk, gateway, NOW - timedelta(minutes=minutes))
    with CaptureQueriesContext(connection) as three_rounds:
        page = browser.get("/calls/").content.decode()
    assert page.count("<tr data-leg=") == 33
    assert len(one_round) == len(three_rounds), (len(one_round), len(three_rounds))
    # The API's pages: 11 rows (one of each shape) or 33 (three of each), same queries.
    api = Api(token=key_for(tree.user("c1_admin")))
    listed(api, tree.c1, "?page_size=1")  # the key's first use writes its last-used time
    counts = {}
    for size in (11, 33):
        with CaptureQueriesContext(connection) as queries:
            rows = listed(api, tree.c1, f"?page_size={size}")
        assert len(rows) == size
        counts[size] = len(queries)
    assert counts[11] == counts[33], counts
