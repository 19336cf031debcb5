"""The production entry point (switchboard.wsgi) sends FreeSWITCH's requests down the WSGI
fast path; it must answer exactly what the Django view answers."""

from __future__ import annotations

import io

import pytest

from switchboard.wsgi import application
from tests.fsconf.replay import replay, request


def call_wsgi(path: str, body: bytes, *, method: str = "POST", remote: str = "127.0.0.1",
              authorization: str = "", length: str | None = None):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "REMOTE_ADDR": remote, "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    started = {}

    def start_response(status, headers):
        started["status"], started["headers"] = status, dict(headers)

    content = b"".join(application(environ, start_response))
    return int(started["status"].split()[0]), started["headers"], content


@pytest.mark.parametrize("name", [
    "directory-sip_auth-register-acme-1001-a1hash-ok",
    "directory-user_call-acme-1002",
    "dialplan-acme-1001-to-1002",
    "directory-gateways-startup-profile-internal",
    "configuration-sofia.conf-startup",
])
def test_fast_path_answers_like_the_view(acme_beta, name):
    captured = request(name)
    view = replay(captured)
    status, headers, content = call_wsgi("/freeswitch/", captured.body,
                                         authorization=captured.headers["authorization"])
    assert (status, content) == (view.status_code, view.content)
    assert headers["Content-Type"] == view["Content-Type"] == "text/xml"
    assert headers["Content-Length"] == str(len(content))


def test_fast_path_refusals(acme_beta):
    captured = request("directory-sip_auth-register-acme-1001-a1hash-ok")
    auth = captured.headers["authorization"]
    assert call_wsgi("/freeswitch/", captured.body, remote="203.0.113.9", authorization=auth)[0] == 403
    assert call_wsgi("/freeswitch/", captured.body)[0] == 401
    assert call_wsgi("/freeswitch/", b"", method="GET", authorization=auth)[0] == 405
    assert call_wsgi("/freeswitch/", b"section=nonsense", authorization=auth)[0] == 400
    assert call_wsgi("/freeswitch/dialplan", captured.body, authorization=auth)[0] == 400
    assert call_wsgi("/freeswitch/", b"x" * 300_000, authorization=auth)[0] == 400
    assert call_wsgi("/freeswitch/", captured.body, authorization=auth, length="junk")[0] == 400
    status, _, content = call_wsgi("/freeswitch/directory", captured.body, authorization=auth)
    assert status == 200 and b"a1-hash" in content


def test_other_paths_go_to_django(acme_beta):
    status, _, _ = call_wsgi("/freeswitch/a/b", b"", method="GET")
    assert status == 404
