"""Captured mod_xml_curl traffic (tests/fixtures/freeswitch/xml_curl, a copy of the shared
captures), replayed byte for byte through Django's test client."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from django.test import Client

FIXTURES = Path(os.environ.get(
    "FREESWITCH_FIXTURES", Path(__file__).resolve().parents[1] / "fixtures" / "freeswitch"
))
XML_CURL = FIXTURES / "xml_curl"
CAPTURE_CREDENTIALS = "fsxml:s3cret-xml"


@dataclass(frozen=True)
class Captured:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class CapturedResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def _split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, body


def request(name: str) -> Captured:
    first, headers, body = _split((XML_CURL / f"{name}.http").read_bytes())
    method, path, _ = first.split(" ", 2)
    return Captured(name, method, path, headers, body)


def response(name: str) -> CapturedResponse:
    first, headers, body = _split((XML_CURL / f"{name}.response.http").read_bytes())
    return CapturedResponse(int(first.split(" ")[1]), headers, body)


def request_names() -> list[str]:
    return sorted(p.name[: -len(".http")] for p in XML_CURL.glob("*.http")
                  if not p.name.endswith(".response.http"))


def replay(captured: Captured, path: str = "/freeswitch/", remote_addr: str = "127.0.0.1"):
    """Send the captured body and headers to ``path`` (the capture server's was /xml_curl)."""
    extra = {"REMOTE_ADDR": remote_addr}
    if "authorization" in captured.headers:
        extra["HTTP_AUTHORIZATION"] = captured.headers["authorization"]
    extra["HTTP_USER_AGENT"] = captured.headers.get("user-agent", "")
    client = Client(HTTP_HOST="127.0.0.1:8000")
    return client.generic(captured.method, path, captured.body,
                          content_type=captured.headers["content-type"], **extra)


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def replay_document(name: str, **replacements: str):
    """Replay capture ``name`` with byte replacements in its body; the parsed answer."""
    from lxml import etree

    captured = request(name)
    body = captured.body
    for old, new in replacements.items():
        body = body.replace(old.encode(), new.encode())
    result = replay(Captured(captured.name, captured.method, captured.path, captured.headers, body))
    assert result.status_code == 200
    assert result["Content-Type"] == "text/xml"
    return etree.fromstring(result.content)
