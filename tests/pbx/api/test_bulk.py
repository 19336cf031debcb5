"""The CSV import and export of extensions through the API, and the job a caller polls
(pbx/api/views/extensions.py, tenants/api/views/jobs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from pbx.models import Extension
from switchboard.celery import app as celery_app
from tenants.models import AuditEvent, Job
from tests.conftest import Tree
from tests.pbx.routing_helpers import extension
from tests.switchboard.api.client import Api, accounts_url, body, key_for

CSV = "number,name,email,device1_label\n1001,Alice Bell,alice@example.com,Desk\n1002,Bob Stone,,\n"
BAD = "number,name,voicemail_pin\n1001,Alice,4826\n12,Bob,\n1003,Carol,1111\n"


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    """The job runs in the committing thread, as a worker would run it."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def numbers(account) -> list[str]:
    with schema_context(account.schema_name):
        return list(Extension.objects.order_by("number").values_list("number", flat=True))


def import_url(account, **query: str) -> str:
    url = accounts_url(account, "extensions", "import")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def post_csv(api: Api, url: str, text: str):
    return api.generic("POST", url, text.encode(), content_type="text/csv")


class TestExtensionImportApi:
    covered_routes = ("extension-import", "extension-export", "job-detail", "job-list")
    query_counted_routes = ("job-list",)

    def test_a_csv_body_is_imported_by_a_job_the_caller_polls(self, tree: Tree, committed):
        admin = tree.user("r1_admin")
        api = Api(token=key_for(admin))
        with committed():
            started = post_csv(api, import_url(tree.c1), CSV)
        assert started.status_code == 202, body(started)
        job = body(started)
        assert (job["state"], job["total"], job["kind"], job["account"]) == ("queued", 2, "extensions.import",
                                                                          tree.c1.pk)
        assert job["options"] == {"dry_run": False, "mode": "all_or_nothing", "existing": "error"}
        assert started.headers["Location"] == f"/api/v1/jobs/{job['id']}/"
        polled = api.send("get", started.headers["Location"])
        assert polled.status_code == 200
        done = body(polled)
        assert (done["state"], done["done"], done["total"], done["errors"]) == ("succeeded", 2, 2, [])
        assert done["result"] == {
            "dry_run": False, "mode": "all_or_nothing", "existing": "error", "rows": 2, "valid_rows": 2,
            "failed_rows": 0, "imported": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped": 0,
            "report": [{"row": 2, "number": "1001", "outcome": "created", "changed": []},
                       {"row": 3, "number": "1002", "outcome": "created", "changed": []}]}
        assert done["created_by"] == "r1_admin" and done["finished_at"]
        assert numbers(tree.c1) == ["1001", "1002"]
        created = AuditEvent.objects.filter(action="extension.create", account=tree.c1)
        assert {(e.actor_id, e.ip) for e in created} == {(admin.pk, "127.0.0.1")}
        assert Job.objects.get(pk=job["id"]).payload == ""  # the file is not kept

    def test_a_multipart_file_with_row_errors_fails_whole_and_lists_them(self, tree: Tree, committed):
        api = Api(token=key_for(tree.user("c1_admin")))
        upload = SimpleUploadedFile("people.csv", b"\xef\xbb\xbf" + BAD.encode(), content_type="text/csv")
        with committed():
            started = api.post(import_url(tree.c1), {"file": upload})
        assert started.status_code == 202, body(started)
        job = body(api.send("get", started.headers["Location"]))
        assert job["state"] == "failed" and job["result"]["imported"] == 0
        assert job["errors"] == [
            {"row": 3, "column": "number", "message": "An extension number has 3 to 6 digits."},
            {"row": 4, "column": "voicemail_pin", "message": "The PIN must not be one digit repeated."},
        ]
        assert numbers(tree.c1) == []

    def test_best_effort_and_dry_run_are_query_options(self, tree: Tree, committed):
        api = Api(token=key_for(tree.user("c1_admin")))
        with committed():
            dry = post_csv(api, import_url(tree.c1, dry_run="true", mode="best_effort"), BAD)
        job = body(api.send("get", dry.headers["Location"]))
        assert (job["state"], job["result"]["valid_rows"], job["result"]["imported"]) == ("succeeded", 1, 0)
        assert numbers(tree.c1) == []
        with committed():
            kept = post_csv(api, import_url(tree.c1, mode="best_effort"), BAD)
        job = body(api.send("get", kept.headers["Location"]))
        assert (job["state"], job["result"]["imported"], len(job["errors"])) == ("succeeded", 1, 2)
        assert numbers(tree.c1) == ["1001"]

    def test_existing_update_changes_existing_extensions_and_the_job_reports_each_row(self, tree: Tree,
                                                                                     committed):
        extension(tree.c1, "1001", "Alice")
        api = Api(token=key_for(tree.user("c1_admin")))
        text = "number,name\n1001,Alice Bell\n1002,Bob\n"
        with committed():
            dry = post_csv(api, import_url(tree.c1, existing="update", dry_run="true"), text)
        assert dry.status_code == 202, body(dry)
        assert body(dry)["options"] == {"dry_run": True, "mode": "all_or_nothing", "existing": "update"}
        job = body(api.send("get", dry.headers["Location"]))
        assert job["result"]["report"] == [
            {"row": 2, "number": "1001", "outcome": "updated", "changed": ["name"]},
            {"row": 3, "number": "1002", "outcome": "created", "changed": []}]
        assert (job["result"]["updated"], job["result"]["created"], job["result"]["imported"]) == (1, 1, 0)
        assert numbers(tree.c1) == ["1001"]
        with committed():
            kept = post_csv(api, import_url(tree.c1, existing="update"), text)
        job = body(api.send("get", kept.headers["Location"]))
        result = job["result"]
        assert (job["state"], result["existing"], result["imported"]) == ("succeeded", "update", 2)
        assert numbers(tree.c1) == ["1001", "1002"]
        with schema_context(tree.c1.schema_name):
            assert Extension.objects.get(number="1001").name == "Alice Bell"
        # The default is still "error": an existing number is a row error.
        with committed():
            refused = post_csv(api, import_url(tree.c1), text)
        job = body(api.send("get", refused.headers["Location"]))
        assert job["state"] == "failed" and job["options"]["existing"] == "error"
        assert [e["row"] for e in job["errors"]] == [2, 3]
        assert [r["outcome"] for r in job["result"]["report"]] == ["failed", "failed"]

    def test_a_retried_import_with_its_idempotency_key_starts_one_job(self, tree: Tree, committed):
        api = Api(token=key_for(tree.user("c1_admin")))
        url = import_url(tree.c1, existing="update")

        def send(text: str):
            return api.generic("POST", url, text.encode(), content_type="text/csv",
                               HTTP_IDEMPOTENCY_KEY="imp-1")

        with committed():
            first, again = send(CSV), send(CSV)
        assert (first.status_code, again.status_code) == (202, 202), body(again)
        assert body(again)["id"] == body(first)["id"] and again.headers["Idempotent-Replayed"] == "true"
        assert Job.objects.count() == 1 and numbers(tree.c1) == ["1001", "1002"]
        other = send(BAD)
        assert other.status_code == 422 and Job.objects.count() == 1

    @pytest.mark.parametrize(("send", "field_says"), [
        (lambda api, url: post_csv(api, url, "number,colour\n1001,red\n"), "Unknown column(s): colour"),
        (lambda api, url: api.post(url, {}), "multipart field"),
        (lambda api, url: post_csv(api, url + "?mode=sometimes", CSV), "mode"),
        (lambda api, url: post_csv(api, url + "?existing=overwrite", CSV), "existing"),
    ])
    def test_a_file_refused_whole_is_a_400_and_starts_no_job(self, tree: Tree, send, field_says):
        refused = send(Api(token=key_for(tree.user("c1_admin"))), import_url(tree.c1))
        assert refused.status_code == 400, body(refused)
        if field_says in ("mode", "existing"):
            assert list(body(refused)) == [field_says]
        else:
            assert field_says in body(refused)["file"][0]
        assert not Job.objects.exists()

    def test_read_only_and_outside_callers_start_nothing(self, tree: Tree):
        url = import_url(tree.c1)
        for token in (key_for(tree.user("r1_admin"), read_only=True), key_for(tree.user("r1_readonly"))):
            assert post_csv(Api(token=token), url, CSV).status_code == 403
        for user in ("c2_admin", "r2_admin", "c1a_admin"):
            refused = post_csv(Api(token=key_for(tree.user(user))), url, CSV)
            assert (refused.status_code, body(refused)) == (404, {"detail": "Not found."})
        assert post_csv(Api(), url, CSV).status_code == 401
        assert not Job.objects.exists() and numbers(tree.c1) == []

    def test_a_job_is_seen_by_those_who_reach_its_account_and_404_to_others(self, tree: Tree):
        job = body(post_csv(Api(token=key_for(tree.user("c1_admin"))), import_url(tree.c1), CSV))
        url = f"/api/v1/jobs/{job['id']}/"
        for user in ("c1_admin", "r1_admin", "r1_readonly", "master_admin"):
            assert Api(token=key_for(tree.user(user))).send("get", url).status_code == 200, user
        missing = Api(token=key_for(tree.user("c2_admin"))).send("get", "/api/v1/jobs/987654/")
        for user in ("c2_admin", "r2_admin", "c1a_admin", "r1a_admin"):
            refused = Api(token=key_for(tree.user(user))).send("get", url)
            assert (refused.status_code, body(refused)) == (404, body(missing)), user
        assert Api().send("get", url).status_code == 401

    def test_the_job_list_holds_the_jobs_of_the_accounts_reached_without_their_rows(self, tree: Tree):
        c1 = body(post_csv(Api(token=key_for(tree.user("c1_admin"))), import_url(tree.c1), CSV))
        c2 = body(post_csv(Api(token=key_for(tree.user("c2_admin"))), import_url(tree.c2), CSV))
        c1a = body(post_csv(Api(token=key_for(tree.user("c1a_admin"))), import_url(tree.c1a), CSV))

        def listed(user: str, query: str = "") -> list[int]:
            answer = Api(token=key_for(tree.user(user))).send("get", "/api/v1/jobs/" + query)
            assert answer.status_code == 200, body(answer)
            assert all("errors" not in job and "result" not in job for job in body(answer)["results"])
            return [job["id"] for job in body(answer)["results"]]

        assert listed("master_admin") == [c1a["id"], c2["id"], c1["id"]]  # newest first
        assert listed("r1_readonly") == [c1a["id"], c1["id"]]
        assert listed("c1_admin") == [c1["id"]] and listed("r2_admin") == [c2["id"]]
        assert listed("master_admin", f"?account={tree.c2.pk}") == [c2["id"]]
        assert listed("r1_admin", f"?account={tree.c2.pk}") == []
        assert listed("master_admin", "?state=queued&q=c1a") == [c1a["id"]]
        assert listed("master_admin", "?state=succeeded") == []
        assert listed("master_admin", "?ordering=created_at") == [c1["id"], c2["id"], c1a["id"]]

    def test_a_page_of_jobs_costs_the_same_queries_whatever_its_size(self, tree: Tree):
        api = Api(token=key_for(tree.user("c1_admin")))
        for _ in range(4):
            post_csv(api, import_url(tree.c1), CSV)
        api.send("get", "/api/v1/jobs/")
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                page = api.send("get", f"/api/v1/jobs/?page_size={size}")
            assert len(body(page)["results"]) == size
            counts.append(len(queries))
        assert counts[0] == counts[1], counts

    def test_the_export_streams_the_import_columns_and_only_to_those_who_reach(self, tree: Tree):
        extension(tree.c1, "1001", "Alice Bell", email="alice@example.com")
        extension(tree.c1, "1002", "Bob Stone", enabled=False)
        api = Api(token=key_for(tree.user("r1_readonly")))
        exported = api.get(accounts_url(tree.c1, "extensions", "export"))
        assert exported.status_code == 200 and exported.streaming
        assert exported["Content-Type"] == "text/csv; charset=utf-8"
        text = b"".join(exported.streaming_content).decode()
        lines = text.splitlines()
        assert lines[0].startswith("number,name,email,") and len(lines) == 3
        assert lines[1].startswith("1001,Alice Bell,alice@example.com,")
        # The list's filters apply.
        only_enabled = api.get(accounts_url(tree.c1, "extensions", "export") + "?enabled=false")
        assert b"".join(only_enabled.streaming_content).decode().splitlines()[1:] == [lines[2]]
        for user in ("c2_admin", "r2_admin"):
            refused = Api(token=key_for(tree.user(user))).get(accounts_url(tree.c1, "extensions", "export"))
            assert refused.status_code == 404
