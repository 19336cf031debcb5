"""The CDR endpoint: every captured post replayed with its retries is stored once and
attributed; duplicates answer 200; unreadable posts are kept and refused so FreeSWITCH
keeps its copy; an unreachable PostgreSQL answers 503 so FreeSWITCH retries."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import uuid
import zlib

import pytest
from django.conf import settings
from django.test import Client

from cdr.ingest import fields_of, parse
from cdr.models import CallRecord, RejectedPost
from switchboard.wsgi import application
from tests.cdr.captures import CAPTURE_CREDENTIALS, CDR, OTHER_FILES, REQUEST, RESPONSE, posts

CAPTURED = {post.name: post for post in posts()}
A_LEG = uuid.UUID("59f6ac6e-9ab4-46e8-92e3-08e0fbbe98aa")
B_LEG = uuid.UUID("d9160039-f2fa-41cf-8fd2-3d830fef5783")
CONF_B_A_LEG = uuid.UUID("5c722a36-86b6-489b-bbf1-31ff1a8e676a")


def url_for(name: str) -> str:
    return "/freeswitch/cdr/xml" if "xml_cdr" in name else "/freeswitch/cdr/json"


def send(name: str, *, body: bytes | None = None, remote: str = "127.0.0.1", authorization: str = "",
         client: Client | None = None):
    post = CAPTURED[name]
    extra = {"REMOTE_ADDR": remote}
    if authorization:
        extra["HTTP_AUTHORIZATION"] = authorization
    return (client or Client()).post(f"{url_for(name)}?uuid={post.query_uuid}",
                                     data=post.body if body is None else body,
                                     content_type=post.headers.get("content-type", ""), **extra)


def send_wsgi(path: str, body: bytes, content_type: str, remote: str = "127.0.0.1"):
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "uuid=x", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "REMOTE_ADDR": remote, "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": content_type, "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    started = {}

    def start_response(status, headers):
        started["status"] = status

    content = b"".join(application(environ, start_response))
    return int(started["status"].split()[0]), content


def test_the_replay_reads_every_file_of_the_capture_directory():
    """The replay below is generated over the directory: every file is a request it
    sends, the answer to one, or the timeline; a file named otherwise fails here rather
    than being skipped, and every post the timeline shows has its capture but one."""
    names = set(CAPTURED)
    for path in sorted(CDR.iterdir()):
        if path.name in OTHER_FILES:
            continue
        found = REQUEST.match(path.name) or RESPONSE.match(path.name)
        assert found, f"{path.name}: not a file the replay reads"
        assert found["name"] in names, f"{path.name}: no first request to replay"
    for post in CAPTURED.values():
        assert post.attempts >= 1 and len(post.bodies) == post.attempts, post.name
    # The timeline lists every post FreeSWITCH made. Conf B's mod_json_cdr b-leg (uuid
    # 804e8ccc…) was posted (twice) but its body was not kept in the shared captures
    # (README section 5): the one post the replay cannot cover.
    timeline = (CDR / "retry-timeline.txt").read_text()
    posted = set(re.findall(r"/cdr/(?:json|xml)\?uuid=([0-9a-z_-]+)", timeline))
    captured = {post.query_uuid for post in CAPTURED.values()}
    assert posted - captured == {"804e8ccc-f08d-48a5-ac68-8d4cd749f693"}
    assert captured <= posted


def test_every_capture_replayed_with_its_retries_is_stored_once_and_attributed(acme):
    legs = {fields_of(parse(post.body, post.headers.get("content-type", ""))).leg_uuid
            for post in CAPTURED.values()}
    for post in CAPTURED.values():
        assert post.attempts == 2
        for body in post.bodies:  # every try, as FreeSWITCH sent it
            response = send(post.name, body=body)
            assert response.status_code == 200, (post.name, response.content)
    # One row per leg of the captures, whatever number of posts and modules carried it:
    # today three (conf A's call, both legs, its a-leg posted by both modules; conf B's
    # a-leg, posted by both modules), each attributed.
    records = {r.leg_uuid: r for r in CallRecord.objects.all()}
    assert CallRecord.objects.count() == len(records) == len(legs)
    assert set(records) == legs
    assert legs >= {A_LEG, B_LEG, CONF_B_A_LEG}
    for record in records.values():
        assert record.account_id == acme.c1.pk
        assert record.account_path == acme.c1.path
        assert record.account_path.startswith(acme.r1.path)
        assert record.direction == "internal"
        assert record.caller_number == "1001" and record.callee_number == "1002"
        assert record.hangup_cause == "NORMAL_CLEARING"
    a_leg, b_leg = records[A_LEG], records[B_LEG]
    assert (a_leg.leg, a_leg.extension, a_leg.other_leg_uuid, a_leg.call_uuid) == ("a", "1001", B_LEG, A_LEG)
    assert (b_leg.leg, b_leg.extension, b_leg.other_leg_uuid, b_leg.call_uuid) == ("b", "1002", A_LEG, A_LEG)
    # The raw post is kept compressed: the first one to arrive (the XML module's, for A's a-leg).
    assert zlib.decompress(bytes(a_leg.raw)) == CAPTURED["A-json_cdr-raw-a-leg"].body
    assert zlib.decompress(bytes(b_leg.raw)) == CAPTURED["A-json_cdr-raw-b-leg"].body
    assert RejectedPost.objects.count() == 0


def test_a_duplicate_answers_200_and_changes_nothing(acme):
    first = send("A-json_cdr-raw-b-leg")
    assert (first.status_code, first.content) == (200, b"OK\n")
    stored = CallRecord.objects.get()
    again = send("A-json_cdr-raw-b-leg")
    assert (again.status_code, again.content) == (200, b"OK (already stored)\n")
    assert CallRecord.objects.get().received_at == stored.received_at


def test_same_leg_through_both_modules_is_one_record(acme):
    assert send("A-xml_cdr-encode-true-a-leg").status_code == 200
    assert send("A-json_cdr-raw-a-leg").status_code == 200
    record = CallRecord.objects.get()
    assert (record.leg_uuid, record.format) == (A_LEG, "xml")


def test_unattributable_leg_is_still_stored(tree):
    # No account owns acme.example.net here: the leg is kept, with no account.
    assert send("A-json_cdr-raw-b-leg").status_code == 200
    record = CallRecord.objects.get()
    assert (record.account_id, record.account_path) == (None, "")


def test_another_tenants_domain_never_claims_the_leg(acme):
    from tenants.actions import do_set_domains

    do_set_domains(acme.user("r2_admin"), acme.c2, primary="beta.example.net")
    send("A-json_cdr-raw-b-leg")
    assert CallRecord.objects.get().account_id == acme.c1.pk


@pytest.mark.parametrize("body", [b"not a cdr at all", b'{"variables": {"uuid": "nope"}}', b"<cdr>"])
def test_unreadable_post_is_kept_once_and_refused(db, body):
    for _ in range(3):  # FreeSWITCH's retries
        response = send("A-json_cdr-raw-b-leg", body=body)
        # Not 2xx: FreeSWITCH retries, then keeps the record in err-log-dir.
        assert response.status_code == 422
        assert response.content.startswith(b"not a call record: ")
    kept = RejectedPost.objects.get()
    assert (bytes(kept.body), kept.attempts) == (body, 3)
    assert kept.query_uuid == CAPTURED["A-json_cdr-raw-b-leg"].query_uuid
    assert CallRecord.objects.count() == 0


def test_address_and_credentials_are_the_configuration_endpoints(acme, settings):
    assert send("A-json_cdr-raw-b-leg", remote="192.0.2.50").status_code == 403
    settings.FREESWITCH_GATEWAY_CREDENTIALS = CAPTURE_CREDENTIALS
    assert send("A-xml_cdr-encode-true-a-leg").status_code == 401
    wrong = "Basic " + base64.b64encode(b"cdr:wrong").decode()
    assert send("A-xml_cdr-encode-true-a-leg", authorization=wrong).status_code == 401
    captured = CAPTURED["A-xml_cdr-encode-true-a-leg"].headers["authorization"]
    assert send("A-xml_cdr-encode-true-a-leg", authorization=captured).status_code == 200
    assert CallRecord.objects.count() == 1
    assert RejectedPost.objects.count() == 0


def test_proxied_request_is_refused(acme):
    response = Client().post("/freeswitch/cdr/json", data=CAPTURED["B-json_cdr-raw-a-leg"].body,
                             content_type="application/json", REMOTE_ADDR="127.0.0.1",
                             HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 403


def test_get_is_refused(db):
    assert Client().get("/freeswitch/cdr/json", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_wsgi_fast_path_answers_like_the_view(acme):
    post = CAPTURED["B-xml_cdr-encode-false-a-leg"]
    assert send_wsgi("/freeswitch/cdr/xml", post.body, post.headers["content-type"]) == (200, b"OK\n")
    assert send_wsgi("/freeswitch/cdr/xml", post.body, post.headers["content-type"]) == (
        200, b"OK (already stored)\n")
    assert send_wsgi("/freeswitch/cdr/json", b"{", "application/json")[0] == 422
    assert send_wsgi("/freeswitch/cdr/json", post.body, "", remote="198.51.100.7")[0] == 403
    assert CallRecord.objects.get().leg_uuid == CONF_B_A_LEG


# A web process whose PostgreSQL is unreachable (a closed port), for real: a child Python
# running the production WSGI application, so nothing of this test process is touched.
_CHILD = """
import io, os, sys
sys.path.insert(0, os.getcwd())
from switchboard.wsgi import application
body = sys.stdin.buffer.read()
environ = {"REQUEST_METHOD": "POST", "PATH_INFO": sys.argv[1], "QUERY_STRING": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1",
           "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
           "CONTENT_TYPE": sys.argv[2], "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
started = {}
content = b"".join(application(environ, lambda status, headers: started.update(status=status)))
print(started["status"].split()[0], content.decode().strip())
"""


def post_without_postgresql(path: str, body: bytes, content_type: str) -> tuple[int, str]:
    environment = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/switchboard",
                   "DJANGO_SETTINGS_MODULE": "switchboard.settings", "FREESWITCH_GATEWAY_CREDENTIALS": "",
                   "FREESWITCH_ALLOWED_NETWORKS": "127.0.0.0/8"}
    finished = subprocess.run([sys.executable, "-c", _CHILD, path, content_type], input=body,
                              capture_output=True, env=environment, cwd=settings.BASE_DIR, timeout=120)
    status, _, text = finished.stdout.decode().strip().rpartition("\n")[2].partition(" ")
    assert status.isdigit(), finished.stderr.decode()[-2000:]
    return int(status), text


def test_postgresql_down_answers_503_and_the_retry_is_stored(acme):
    post = CAPTURED["B-json_cdr-raw-a-leg"]
    assert post_without_postgresql("/freeswitch/cdr/json", post.body, "application/json") == (
        503, "temporarily unable to store")
    assert CallRecord.objects.count() == 0
    # FreeSWITCH's retry, with PostgreSQL back:
    assert send_wsgi("/freeswitch/cdr/json", post.body, "application/json") == (200, b"OK\n")
    assert CallRecord.objects.get().leg_uuid == CONF_B_A_LEG


def test_unreadable_post_while_postgresql_is_down_is_503_too(db):
    assert post_without_postgresql("/freeswitch/cdr/json", b"junk", "")[0] == 503


def with_variables(name: str, *, context: str = "", **variables: str) -> bytes:
    """A captured JSON post with the variables our dialplan now exports added (the capture
    was made before they existed), and optionally the first profile's context."""
    data = json.loads(CAPTURED[name].body)
    data["variables"].update(variables)
    if context:
        data["callflow"][-1]["caller_profile"]["context"] = context
    return json.dumps(data).encode()


def test_switchboard_account_wins_over_the_domain(acme):
    # A DID call of C2's that reached a phone whose domain is acme's: the account our
    # dialplan named is the one billed, not whoever owns the phone's domain.
    body = with_variables("B-json_cdr-raw-a-leg", context="public", switchboard_account=str(acme.c2.pk),
                          switchboard_did="+14165550100", switchboard_dest_kind="extension")
    assert send("B-json_cdr-raw-a-leg", body=body).status_code == 200
    record = CallRecord.objects.get()
    assert (record.account_id, record.account_path) == (acme.c2.pk, acme.c2.path)
    assert (record.direction, record.did, record.destination_kind) == ("inbound", "+14165550100", "extension")


def test_unknown_account_id_falls_back_to_the_domain(acme):
    body = with_variables("B-json_cdr-raw-a-leg", switchboard_account="999999999")
    send("B-json_cdr-raw-a-leg", body=body)
    assert CallRecord.objects.get().account_id == acme.c1.pk


def test_carrier_leg_names_its_trunk(acme):
    from carriers.actions import do_create_trunk

    trunk = do_create_trunk(acme.user("master_admin"), acme.master, name="A", weight_cost=10,
                            gateways=[{"server": "a.carrier.example.com"}])
    gateway = f"gw{trunk.gateways.get().pk}"
    body = with_variables("A-json_cdr-raw-b-leg", sip_gateway_name=gateway,
                          channel_name=f"sofia/external/{gateway}/14165550123",
                          switchboard_account=str(acme.c1.pk), switchboard_dest_kind="outbound")
    send("A-json_cdr-raw-b-leg", body=body)
    record = CallRecord.objects.get()
    assert (record.trunk_id, record.gateway, record.direction) == (trunk.pk, gateway, "outbound")
    assert record.account_id == acme.c1.pk
