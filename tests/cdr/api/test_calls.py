"""Call history, its CSV export, reports and usage in the API, from the attacker's side
first: a tenant reads only its own records whatever it asks for, a reseller its subtree,
and anyone else gets the 404 of a missing account (tests/switchboard/api/test_routes.py
walks every route with the sibling, cousin, parent-path and read-only cases too)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cdr.models import CallRecord
from tests.cdr.legs import call, leg, put
from tests.switchboard.api.client import Api, accounts_url, body, host_of, key_for

NOW = timezone.now().replace(microsecond=0)


def calls_url(account, rest: str = "") -> str:
    return accounts_url(account, "calls") + rest


def csv_rows(response) -> list[list[str]]:
    assert response.streaming, "the export is streamed"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def history(tree):
    """Calls of C1 (under R1), C1A (under R1A under R1) and C2 (under R2), today."""
    c1_call = call(tree.c1, start_at=NOW - timedelta(hours=1), talk=60, caller="1001", callee="1002")
    call(tree.c1a, start_at=NOW - timedelta(hours=2), talk=30, caller="1001", callee="1003")
    victim = call(tree.c2, start_at=NOW - timedelta(hours=3), talk=90, caller="1001", callee="1002",
                  caller_name="=HYPERLINK(\"http://x\")")
    return tree, c1_call, victim


class TestCallHistoryApi:
    covered_routes = ("call-record-list", "call-record-export", "call-report", "call-usage")

    def test_a_tenant_reads_only_its_own_records_whatever_it_asks(self, history):
        tree, (c1_a, c1_b), (c2_a, _c2_b) = history
        api = Api(token=key_for(tree.user("c1_admin")))
        listed = api.send("get", calls_url(tree.c1))
        assert listed.status_code == 200, body(listed)
        own = {str(c1_a.leg_uuid), str(c1_b.leg_uuid)}
        assert {row["leg_uuid"] for row in body(listed)["results"]} == own
        # Naming the victim's account in a filter narrows its own records to none.
        narrowed = api.send("get", calls_url(tree.c1, f"?account={tree.c2.pk}"))
        assert body(narrowed)["results"] == []
        exported = csv_rows(api.send("get", calls_url(tree.c1, "export.csv")))
        leg_column = exported[0].index("leg_uuid")
        assert str(c2_a.leg_uuid) not in {row[leg_column] for row in exported}
        assert len(exported) == 3  # the header and C1's two legs
        report = body(api.send("get", calls_url(tree.c1, "report/")))
        assert report["totals"]["calls"] == 1
        assert {row["account"] for row in report["extensions"]} == {tree.c1.pk}
        usage = body(api.send("get", accounts_url(tree.c1, "usage")))
        assert [row["account"] for row in usage["accounts"]] == [tree.c1.pk]

    def test_another_tenants_account_is_404_like_a_missing_one(self, history):
        tree = history[0]
        api = Api(token=key_for(tree.user("c2_admin")))
        missing = api.send("get", calls_url(987654))
        for url in (calls_url(tree.c1), calls_url(tree.c1, "export.csv"), calls_url(tree.c1, "report/"),
                    accounts_url(tree.c1, "usage"), calls_url(tree.r1)):
            refused = api.send("get", url)
            assert (refused.status_code, body(refused)) == (404, body(missing)), url
        # Its own session on its own host, replayed on the victim's: not signed in there.
        replayed = Api(host=host_of(tree.c1))
        replayed.force_login(tree.user("c2_admin"))
        assert replayed.send("get", calls_url(tree.c1)).status_code == 401

    def test_a_reseller_reads_its_subtree_and_nothing_beside_it(self, history):
        tree = history[0]
        api = Api(token=key_for(tree.user("r1_admin")))
        rows = body(api.send("get", calls_url(tree.r1)))["results"]
        assert {row["account"] for row in rows} == {tree.c1.pk, tree.c1a.pk}
        only_c1 = body(api.send("get", calls_url(tree.c1)))["results"]
        assert {row["account"] for row in only_c1} == {tree.c1.pk}
        # R1A, a reseller below R1, reads C1A and not its parent's other customer.
        r1a = Api(token=key_for(tree.user("r1a_admin")))
        below = body(r1a.send("get", calls_url(tree.r1a)))["results"]
        assert {row["account"] for row in below} == {tree.c1a.pk}
        assert r1a.send("get", calls_url(tree.r1)).status_code == 404
        # The master reads everyone's.
        master = Api(token=key_for(tree.user("master_admin")))
        everyone = body(master.send("get", calls_url(tree.master, "?leg=a")))["results"]
        assert {row["account"] for row in everyone} == {tree.c1.pk, tree.c1a.pk, tree.c2.pk}

    def test_read_only_keys_and_roles_read(self, history):
        tree = history[0]
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            api = Api(token=token)
            for url in (calls_url(tree.c1), calls_url(tree.c1, "export.csv"), calls_url(tree.c1, "report/"),
                        accounts_url(tree.r1, "usage")):
                assert api.send("get", url).status_code == 200, url

    def test_nothing_is_written_through_it(self, history):
        tree = history[0]
        api = Api(token=key_for(tree.user("c1_admin")))
        before = CallRecord.objects.count()
        for method in ("post", "put", "patch", "delete"):
            assert api.send(method, calls_url(tree.c1), {}).status_code == 405
        assert CallRecord.objects.count() == before


def test_search_filters(tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    at = NOW - timedelta(hours=1)
    answered = call(tree.c1, start_at=at, talk=75, caller="1001", callee="1002")[0]
    busy = call(tree.c1, start_at=at, caller="1003", callee="1002", hangup_cause="USER_BUSY",
                sip_status=486)[0]
    missed = call(tree.c1, start_at=at, caller="1004", callee="1005", hangup_cause="NO_ANSWER")[0]
    failed = call(tree.c1, start_at=at, caller="1004", callee="1005", hangup_cause="CALL_REJECTED")[0]
    inbound = leg(tree.c1, start_at=at, talk=200, did="+14165550100", public_inbound=True, extension="",
                  caller_number="+12125550199", callee_number="+14165550100")
    put(inbound)
    old = call(tree.c1, start_at=NOW - timedelta(days=45), talk=5)[0]

    def found(query: str) -> set[str]:
        response = api.send("get", calls_url(tree.c1, f"?leg=a&{query}"))
        assert response.status_code == 200, body(response)
        return {row["leg_uuid"] for row in body(response)["results"]}

    ids = lambda *legs: {str(item.leg_uuid) for item in legs}  # noqa: E731
    recent = ids(answered, busy, missed, failed, inbound)
    assert found("") == recent  # the last 30 days by default
    since = (NOW - timedelta(days=60)).date().isoformat()
    assert found(f"since={since}") == recent | ids(old)
    assert found("result=answered") == ids(answered, inbound)
    assert found("result=busy") == ids(busy)
    assert found("result=missed") == ids(missed)
    assert found("result=failed") == ids(failed)
    assert found("direction=inbound") == ids(inbound)
    assert found("number=%2B1416") == ids(inbound)  # the DID, by prefix
    assert found("number=%2B1212") == ids(inbound)  # the caller
    assert found("number=1005") == ids(missed, failed)  # the callee
    assert found("extension=1004") == ids(missed, failed)
    assert found("min_seconds=60&max_seconds=100") == ids(answered)
    # The extension rung appears on its b-legs.
    rung = api.send("get", calls_url(tree.c1, "?leg=b&extension=1002&result=busy"))
    assert [row["result"] for row in body(rung)["results"]] == ["busy"]
    for bad in ("result=maybe", "since=yesterday", "min_seconds=-1", "direction=sideways"):
        refused = api.send("get", calls_url(tree.c1, f"?{bad}"))
        assert refused.status_code == 400, bad
        assert bad.split("=")[0] in body(refused)


def test_cursor_pages_walk_every_record_once_both_ways(tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    legs = []
    for minute in range(7):
        legs += call(tree.c1, start_at=NOW - timedelta(minutes=minute), talk=minute)
    newest_first = sorted(legs, key=lambda f: (f.start_at, f.leg_uuid), reverse=True)
    expected = [str(item.leg_uuid) for item in newest_first]
    seen, pages, url = [], [], calls_url(tree.c1, "?page_size=4")
    while url:
        page = body(api.send("get", url))
        pages.append(page)
        seen += [row["leg_uuid"] for row in page["results"]]
        url = page["next"]
    assert seen == expected and len(pages) == 4
    assert pages[0]["previous"] is None
    # Back from the last page.
    back = body(api.send("get", pages[-1]["previous"]))
    assert back["results"] == pages[-2]["results"]
    # "last": the oldest page directly, newest first inside it.
    last = body(api.send("get", pages[0]["last"]))
    assert [row["leg_uuid"] for row in last["results"]] == expected[-4:]
    assert last["next"] is None and last["previous"]
    assert body(api.send("get", last["previous"]))["results"][-1]["leg_uuid"] == expected[-5]
    refused = api.send("get", calls_url(tree.c1, "?cursor=bm90LWEtY3Vyc29y"))
    assert refused.status_code == 400 and "cursor" in body(refused)


def test_a_page_costs_the_same_queries_deep_or_shallow(tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    for minute in range(12):
        call(tree.c1, start_at=NOW - timedelta(minutes=minute), talk=1)
    first = body(api.send("get", calls_url(tree.c1, "?page_size=2")))
    counts = []
    for url in (calls_url(tree.c1, "?page_size=2"), first["last"], first["next"]):
        with CaptureQueriesContext(connection) as queries:
            assert api.send("get", url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts


def test_csv_export_streams_the_search_with_formulas_defused(tree):
    api = Api(token=key_for(tree.user("c1_admin")))
    tree.c1.timezone = "America/Toronto"
    tree.c1.save(update_fields=["timezone"])
    at = datetime.combine(timezone.now().date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=5)
    a, _b = call(tree.c1, start_at=at, talk=61, caller_name="=cmd|' /C calc'!A0")
    call(tree.c1, start_at=at, hangup_cause="USER_BUSY", caller="1009")
    response = api.send("get", calls_url(tree.c1, "export.csv?result=answered&leg=a"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="calls-{tree.c1.pk}-')
    header, *rows = csv_rows(response)
    assert header[:3] == ["start", "answered_at", "end"] and len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["leg_uuid"] == str(a.leg_uuid) and row["result"] == "answered" and row["talk_s"] == "61"
    assert row["caller_name"] == "'=cmd|' /C calc'!A0"
    # Local time: 05:00 UTC is midnight in Toronto (EST) or 01:00 (EDT).
    assert row["start"].endswith(("00:00:00", "01:00:00"))


def test_report_and_usage_match_the_records(tree):
    tree.c1.country = tree.c1a.country = "US"
    tree.c1.save(update_fields=["country"])
    tree.c1a.save(update_fields=["country"])
    at = NOW - timedelta(hours=2)
    call(tree.c1, start_at=at, talk=60)
    call(tree.c1, start_at=at, talk=30, caller="1002", callee="1001")
    call(tree.c1, start_at=at, hangup_cause="NO_ANSWER")
    put(leg(tree.c1, start_at=at, talk=120, callee_number="011442071234567",
            outbound_number="011442071234567"))
    put(leg(tree.c1a, start_at=at, talk=240, callee_number="2125550123", outbound_number="2125550123"))
    put(leg(tree.c2, start_at=at, talk=999))
    api = Api(token=key_for(tree.user("r1_admin")))
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)
    report = body(api.send("get", calls_url(tree.c1, f"report/?since={yesterday}&until={today}")))
    totals = report["totals"]
    assert (totals["calls"], totals["answered"], totals["missed"]) == (4, 3, 1)
    assert totals["asr_percent"] == 75.0 and totals["aloc_seconds"] == round((60 + 30 + 120) / 3, 1)
    assert report["granularity"] == "hour" and len(report["series"]) == 48
    assert sum(point["calls"] for point in report["series"]) == 4
    extensions = {row["extension"]: row for row in report["extensions"]}
    summary = {number: (row["placed"], row["rung"], row["picked_up"], row["missed"])
               for number, row in extensions.items()}
    assert summary == {"1001": (3, 1, 1, 0), "1002": (1, 2, 1, 1)}

    usage = body(api.send("get", accounts_url(tree.r1, "usage") + f"?month={today:%Y-%m}"))
    rows = {row["account"]: row for row in usage["accounts"]}
    assert set(rows) == {tree.r1.pk, tree.c1.pk, tree.r1a.pk, tree.c1a.pk}
    assert rows[tree.c1.pk]["own"]["calls"] == 4
    assert rows[tree.c1.pk]["own"]["outbound_minutes"]["international"] == 2.0
    assert rows[tree.c1a.pk]["own"]["outbound_minutes"]["domestic"] == 4.0
    assert rows[tree.r1a.pk]["own"]["calls"] == 0 and rows[tree.r1a.pk]["subtree"]["calls"] == 1
    assert rows[tree.r1.pk]["subtree"]["calls"] == 5
    assert rows[tree.r1.pk]["subtree"]["minutes"] == round((60 + 30 + 120 + 240) / 60, 1)
    assert (rows[tree.c1a.pk]["parent"], rows[tree.r1.pk]["parent"]) == (tree.r1a.pk, None)
    assert rows[tree.c1a.pk]["depth"] == 2
    # A customer's usage is its own row only.
    own = body(Api(token=key_for(tree.user("c1_admin"))).send("get", accounts_url(tree.c1, "usage")))
    assert [row["account"] for row in own["accounts"]] == [tree.c1.pk]
    for bad in ("month=2026-13", "month=26-01", "month=x"):
        assert api.send("get", accounts_url(tree.r1, "usage") + f"?{bad}").status_code == 400
    for bad in ("since=2026-12-05&until=2026-12-01", "since=nope"):
        assert api.send("get", calls_url(tree.c1, f"report/?{bad}")).status_code == 400


def test_calls_of_extension_is_the_extensions_own_history(tree):
    from cdr.queries import calls_of_extension

    placed = call(tree.c1, start_at=NOW - timedelta(minutes=5), talk=3, caller="1001", callee="1002")
    rung = call(tree.c1, start_at=NOW - timedelta(minutes=1), talk=3, caller="1003", callee="1001")
    call(tree.c1, caller="1003", callee="1002")
    call(tree.c2, caller="1001", callee="1002")  # the same number in another tenant
    history = list(calls_of_extension(tree.c1, "1001"))
    assert [r.leg_uuid for r in history] == [rung[1].leg_uuid, placed[0].leg_uuid]


def test_the_report_series_is_in_local_hours_without_an_offset(tree):
    # Kolkata is +5:30: a call at 09:10 there is in the 09:00 point, which must not read
    # as 09:00 UTC (DRF's DateTimeField printed the naive local time with "Z").
    tree.c1.timezone = "Asia/Kolkata"
    tree.c1.save(update_fields=["timezone"])
    zone = ZoneInfo("Asia/Kolkata")
    day = (NOW - timedelta(days=2)).astimezone(zone).date()
    call(tree.c1, start_at=datetime.combine(day, time(9, 10), tzinfo=zone), talk=30)
    api = Api(token=key_for(tree.user("c1_admin")))
    report = body(api.send("get", calls_url(tree.c1, f"report/?since={day}&until={day}")))
    assert [point["at"] for point in report["series"] if point["calls"]] == [f"{day}T09:00:00"]
    assert report["series"][0]["at"] == f"{day}T00:00:00"
