"""Reading every captured body shape into the same fields (pure, no database)."""

from __future__ import annotations

import json
import uuid
from base64 import b64encode
from urllib.parse import quote

import pytest

from cdr.ingest import BadRecord, fields_of, parse
from tests.cdr.captures import posts

CAPTURED = {post.name: post for post in posts()}


def read(name: str):
    post = CAPTURED[name]
    return fields_of(parse(post.body, post.headers.get("content-type", "")))


def test_every_capture_is_read():
    assert len(CAPTURED) == 5
    for post in CAPTURED.values():
        fields = fields_of(parse(post.body, post.headers.get("content-type", "")))
        assert str(fields.leg_uuid) == post.query_uuid.removeprefix("a_")


def test_json_a_leg_with_encoded_values():
    fields = read("A-json_cdr-raw-a-leg")
    assert fields.leg == "a" and fields.format == "json"
    assert fields.leg_uuid == uuid.UUID("59f6ac6e-9ab4-46e8-92e3-08e0fbbe98aa")
    assert fields.other_leg_uuid == uuid.UUID("d9160039-f2fa-41cf-8fd2-3d830fef5783")
    assert fields.call_uuid == fields.leg_uuid
    assert (fields.caller_number, fields.callee_number, fields.extension) == ("1001", "1002", "1001")
    assert fields.domain_hint == "acme.example.net"
    assert fields.hangup_cause == "NORMAL_CLEARING" and fields.q850 == 16
    assert fields.start_at.isoformat().startswith("2026-11-22T02:58:3")
    assert fields.duration >= fields.billsec >= 0


def test_json_b_leg_links_to_its_a_leg():
    fields = read("A-json_cdr-raw-b-leg")
    assert fields.leg == "b"
    assert fields.call_uuid == fields.other_leg_uuid == uuid.UUID("59f6ac6e-9ab4-46e8-92e3-08e0fbbe98aa")
    assert fields.extension == "1002"  # the extension we rang
    assert fields.domain_hint == "acme.example.net"  # user_context of the dialed user


def test_xml_url_encoded_and_plain_read_like_json():
    a_json, a_xml = read("A-json_cdr-raw-a-leg"), read("A-xml_cdr-encode-true-a-leg")
    for name in ("leg_uuid", "leg", "start_at", "answer_at", "end_at", "caller_number", "callee_number",
                 "extension", "domain_hint", "hangup_cause", "other_leg_uuid"):
        assert getattr(a_json, name) == getattr(a_xml, name), name
    b_json, b_xml = read("B-json_cdr-raw-a-leg"), read("B-xml_cdr-encode-false-a-leg")
    assert (b_json.leg_uuid, b_json.start_at, b_json.caller_name) == (b_xml.leg_uuid, b_xml.start_at,
                                                                      b_xml.caller_name)


def test_plain_and_encoded_values_decode_the_same():
    plain = parse(CAPTURED["B-json_cdr-raw-a-leg"].body, "application/json")
    encoded = parse(CAPTURED["A-json_cdr-raw-a-leg"].body, "application/x-www-form-urlencoded")
    assert plain.variables["effective_caller_id_name"] == "Acme 1001"
    assert encoded.variables["effective_caller_id_name"] == "Acme 1001"
    assert encoded.variables["outbound_caller_id_number"] == "+14165550100"


@pytest.mark.parametrize("wrap", ["form", "base64"])
def test_json_inside_a_cdr_field(wrap):
    document = CAPTURED["B-json_cdr-raw-a-leg"].body
    if wrap == "form":
        body, content_type = b"cdr=" + quote(document, safe="").encode(), "application/x-www-form-urlencoded"
    else:
        body, content_type = b"cdr=" + b64encode(document), "application/x-www-form-base64-encoded"
    assert fields_of(parse(body, content_type)) == fields_of(parse(document, "application/json"))


def test_textxml_raw_document():
    post = CAPTURED["B-xml_cdr-encode-false-a-leg"]
    document = post.body.removeprefix(b"cdr=")
    assert fields_of(parse(document, "text/xml")) == fields_of(parse(post.body, post.headers["content-type"]))


@pytest.mark.parametrize("body, reason", [
    (b"", "empty body"),
    (b"hello", "neither a JSON nor an XML"),
    (b'{"variables": ', "invalid JSON"),
    (b"[1, 2]", "neither"),
    (b'{"no": "variables"}', "without a variables"),
    (b'{"variables": {"uuid": "not-a-uuid"}}', "not a uuid"),
    (b'{"variables": {"uuid": "59f6ac6e-9ab4-46e8-92e3-08e0fbbe98aa"}}', "no start_uepoch"),
    (b"<cdr><variables>", "invalid XML"),
    (b"<html/>", "not <cdr>"),
    (b'<?xml version="1.0"?><!DOCTYPE cdr [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b"<cdr><variables><uuid>&x;</uuid></variables></cdr>", "uuid"),
])
def test_unreadable_bodies_say_why(body, reason):
    with pytest.raises(BadRecord, match=reason):
        fields_of(parse(body, "application/json"))


def test_too_large():
    with pytest.raises(BadRecord, match="larger than"):
        parse(b"{" + b" " * (4 * 1024 * 1024), "application/json")


def test_nul_in_a_value_is_dropped():
    data = json.loads(CAPTURED["B-json_cdr-raw-a-leg"].body)
    data["callflow"][-1]["caller_profile"]["caller_id_name"] = "Evil\x00Name"
    fields = fields_of(parse(json.dumps(data).encode(), "application/json"))
    assert fields.caller_name == "EvilName"
