"""The portal's call pages with records in them (tests/pbx/portal/test_pages.py runs the
page x role matrix over them): each tenant's host shows that tenant's records only, a
reseller's host its subtree's, the export is a streamed CSV of the same search, and the
report's chart is SVG drawn on the server."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests.cdr.legs import call
from tests.conftest import Browser

EXPORT = "/calls/export.csv"


def signed_in(tree, username: str, host: str) -> Browser:
    return Browser(host).login_as(tree.user(username))


def test_each_tenants_history_holds_its_own_calls_only(tree):
    now = timezone.now()
    mine = call(tree.c1, start_at=now - timedelta(minutes=3), talk=12, caller_name="<script>x</script>")
    theirs = call(tree.c2, start_at=now - timedelta(minutes=2), talk=34)
    page = signed_in(tree, "c1_admin", "c1.localhost").get("/calls/")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(f'data-leg="{leg.leg_uuid}"' in text for leg in mine)
    assert "(&lt;script&gt;x&lt;/script&gt;)" in text and "<script>x" not in text
    assert not any(str(leg.leg_uuid) in text for leg in theirs)
    # The victim's admin signed in on the victim's host sees the mirror image.
    other = signed_in(tree, "c2_admin", "c2.localhost").get("/calls/").content.decode()
    assert all(str(leg.leg_uuid) in other for leg in theirs)
    assert not any(str(leg.leg_uuid) in other for leg in mine)
    # The account filter cannot reach outside: naming C2 on C1's host finds nothing.
    narrowed = signed_in(tree, "c1_admin", "c1.localhost").get(f"/calls/?account={tree.c2.pk}")
    assert not any(str(leg.leg_uuid) in narrowed.content.decode() for leg in theirs)


def test_times_are_the_accounts_own(tree):
    tree.c1.timezone = "Asia/Tokyo"
    tree.c1.save(update_fields=["timezone"])
    at = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    a, _b = call(tree.c1, start_at=at, talk=1)
    text = signed_in(tree, "c1_admin", "c1.localhost").get("/calls/").content.decode()
    row = text.split(f'data-leg="{a.leg_uuid}"')[1].split("</tr>")[0]
    tokyo = at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f'<td data-label="Start">{tokyo:%Y-%m-%d %H:%M:%S}</td>' in row
    assert "(times in Asia/Tokyo)" in text


def test_export_streams_the_same_search_and_only_this_tenants(tree):
    now = timezone.now()
    answered = call(tree.c1, start_at=now - timedelta(minutes=3), talk=12)
    call(tree.c1, start_at=now - timedelta(minutes=2), hangup_cause="NO_ANSWER")
    call(tree.c2, start_at=now - timedelta(minutes=1), talk=5)
    browser = signed_in(tree, "c1_admin", "c1.localhost")
    response = browser.get(f"{EXPORT}?result=answered")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["leg_uuid"] for row in rows} == {str(leg.leg_uuid) for leg in answered}
    assert {row["account"] for row in rows} == {str(tree.c1.pk)}
    # The page links to the export with its own search.
    assert f'href="{EXPORT}?result=answered"' in browser.get("/calls/?result=answered").content.decode()
    # Strangers: anonymous is sent to sign in, another tenant's session is not signed in here.
    assert Browser("c1.localhost").get(EXPORT)["Location"].startswith("/login/")
    stolen = Browser("c1.localhost")
    stolen.force_login(tree.user("c2_admin"))
    assert stolen.get(EXPORT)["Location"].startswith("/login/")
    assert browser.get(f"{EXPORT}?result=maybe").status_code == 400


def test_pages_walk_older_and_back(tree):
    now = timezone.now()
    legs = []
    for minute in range(30):
        legs += call(tree.c1, start_at=now - timedelta(minutes=minute + 1), talk=1)
    browser = signed_in(tree, "c1_admin", "c1.localhost")
    first = browser.get("/calls/").content.decode()
    order = sorted(legs, key=lambda f: (f.start_at, f.leg_uuid))
    newest, oldest = order[-1], order[0]
    assert str(newest.leg_uuid) in first and str(oldest.leg_uuid) not in first
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = browser.get(f"/calls/{older}").content.decode()
    assert str(oldest.leg_uuid) in second and 'rel="prev"' in second
    assert "Oldest" in first
    bad = browser.get("/calls/?cursor=garbage")
    assert bad.status_code == 200 and "no longer valid" in bad.content.decode()


def test_report_draws_its_chart_on_the_server(tree):
    now = timezone.now()
    call(tree.c1, start_at=now - timedelta(minutes=5), talk=40)
    call(tree.c1, start_at=now - timedelta(minutes=4), hangup_cause="NO_ANSWER")
    text = signed_in(tree, "c1_admin", "c1.localhost").get("/calls/report/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and "<rect" in text
    assert 'data-figure="calls">2<' in text and 'data-figure="asr">50.0 %<' in text
    assert "cdn" not in text.lower()
    browser = signed_in(tree, "c1_admin", "c1.localhost")
    refused = browser.get("/calls/report/?since=2026-12-05&until=2026-01-01")
    assert refused.status_code == 200 and "at most 400 days" in refused.content.decode()


def test_a_resellers_usage_page_rolls_its_subtree_up(tree):
    now = timezone.now()
    call(tree.c1, start_at=now - timedelta(minutes=5), talk=120)
    call(tree.c1a, start_at=now - timedelta(minutes=5), talk=60)
    call(tree.c2, start_at=now - timedelta(minutes=5), talk=600)
    text = signed_in(tree, "r1_admin", "r1.localhost").get("/calls/usage/").content.decode()
    for account in (tree.r1, tree.c1, tree.r1a, tree.c1a):
        assert f'data-account="{account.pk}"' in text
    assert f'data-account="{tree.c2.pk}"' not in text
    r1_row = text.split(f'data-account="{tree.r1.pk}"')[1].split("</tr>")[0]
    # R1's own calls: none; its subtree: two calls, three minutes.
    assert '<td data-label="Subtree calls">2</td><td data-label="Subtree minutes">3.0</td>' in r1_row
    own = signed_in(tree, "c1_admin", "c1.localhost").get("/calls/usage/").content.decode()
    assert f'data-account="{tree.c1.pk}"' in own and f'data-account="{tree.r1.pk}"' not in own
