"""The admin's "Usage per month" (cdr.admin.UsageReportAdmin) for the master's and the
resellers' staff: each sees its own subtree rolled up the tree, drills into an account
of it, downloads the CSV; any account outside its subtree is a 404 like a missing one
(the attacker's view first)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from cdr.reports import usage
from tests.cdr.legs import call, leg, put
from tests.conftest import Browser

URL = "/admin/cdr/usagereport/"
MONTH = "?month=2026-11"
AT = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def calls(tree):
    call(tree.c1, start_at=AT, talk=120)
    call(tree.c1a, start_at=AT, talk=60)
    call(tree.c2, start_at=AT, talk=600)
    assert put(leg(tree.c1a, start_at=AT, talk=300, extension="1001", callee_number="+442071234567",
                   outbound_number="+442071234567", destination_kind="outbound"))
    return tree


def admin_as(tree, username: str) -> Browser:
    return Browser("localhost").login_as(tree.user(username))


def rows_of(page: str) -> dict[str, str]:
    """data-account -> the row's HTML."""
    found = {}
    for chunk in page.split('<tr data-account="')[1:]:
        pk, _, rest = chunk.partition('"')
        found[pk] = rest.split("</tr>")[0]
    return found


@pytest.mark.parametrize(("username", "outside"), [
    ("r1_admin", ["r2", "c2", "c0", "master"]),
    ("r1_readonly", ["r2", "c2", "master"]),
    ("r1a_admin", ["r1", "c1", "r2", "c2", "master"]),
    ("r2_admin", ["r1", "c1", "r1a", "c1a", "master"]),
])
def test_an_account_outside_the_subtree_is_a_404_like_a_missing_one(calls, username, outside):
    tree = calls
    browser = admin_as(tree, username)
    missing = browser.get(f"{URL}999999/{MONTH}")
    assert missing.status_code == 404
    for name in outside:
        answer = browser.get(f"{URL}{getattr(tree, name).pk}/{MONTH}")
        assert answer.status_code == 404, name
        assert answer.content == missing.content
        assert browser.get(f"{URL}{getattr(tree, name).pk}/{MONTH}&format=csv").status_code == 404
    # Its own page lists its subtree and nothing else.
    own = rows_of(browser.get(f"{URL}{MONTH}").content.decode())
    assert not {str(getattr(tree, name).pk) for name in outside} & set(own)


def test_a_reseller_sees_its_subtree_rolled_up(calls):
    tree = calls
    browser = admin_as(tree, "r1_admin")
    assert "/admin/cdr/usagereport/" in browser.get("/admin/").content.decode()
    page = browser.get(f"{URL}{MONTH}")
    assert page.status_code == 200
    rows = rows_of(page.content.decode())
    assert set(rows) == {str(a.pk) for a in (tree.r1, tree.c1, tree.r1a, tree.c1a)}
    # Reuses cdr.reports.usage: the page shows what it returns.
    expected = {row.account.pk: row for row in usage(tree.r1, datetime(2026, 11, 1).date())}
    r1 = expected[tree.r1.pk].subtree.as_dict()
    assert r1["calls"] == 3 and r1["outbound_minutes"]["international"] == 5.0
    assert f"<td>{r1['calls']}</td><td>{r1['minutes']}</td>" in rows[str(tree.r1.pk)]
    # Drilling into the sub-reseller: its own subtree, with a way back up.
    inner = browser.get(f"{URL}{tree.r1a.pk}/{MONTH}").content.decode()
    assert set(rows_of(inner)) == {str(tree.r1a.pk), str(tree.c1a.pk)}
    assert f'href="{URL}{tree.r1.pk}/?month=2026-11"' in inner


def test_the_master_sees_every_account_and_downloads_the_csv(calls):
    tree = calls
    browser = admin_as(tree, "master_admin")
    rows = rows_of(browser.get(f"{URL}{MONTH}").content.decode())
    assert {str(tree.c2.pk), str(tree.c1a.pk), str(tree.master.pk)} <= set(rows)
    download = browser.get(f"{URL}{MONTH}&format=csv")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="usage-{tree.master.pk}-2026-11.csv"'
    table = list(csv.DictReader(io.StringIO(download.content.decode())))
    by_id = {int(row["account_id"]): row for row in table}
    assert by_id[tree.master.pk]["subtree_calls"] == "4"
    assert by_id[tree.c2.pk]["minutes"] == "10.0"
    assert by_id[tree.c1a.pk]["outbound_international"] == "5.0"
    assert by_id[tree.c1a.pk]["parent_id"] == str(tree.r1a.pk)


def test_a_bad_month_is_a_form_error(calls):
    page = admin_as(calls, "r1_admin").get(f"{URL}?month=someday")
    assert page.status_code == 200
    assert "Enter a valid date" in page.content.decode()
    assert 'data-account="' not in page.content.decode()
