"""bench/cdr_ingest.py's posts: each new post is a new leg the endpoint reads (every uuid
renewed, the body otherwise the capture's), so its exactly-once check counts right."""

from __future__ import annotations

from bench.cdr_ingest import build_request, templates
from cdr.ingest import fields_of, parse


def test_every_post_is_a_readable_new_leg_named_in_its_query():
    shapes = templates()
    assert len(shapes) == 5
    legs = set()
    for number in range(20):
        shape = shapes[number % len(shapes)]
        request, leg = build_request(shape, number)
        head, _, body = request.partition(b"\r\n\r\n")
        assert f"?uuid={leg} ".encode() in head
        assert f"Content-Length: {len(body)}\r\n".encode() in head + b"\r\n"
        fields = fields_of(parse(body, shape.content_type))
        assert str(fields.leg_uuid) == leg
        legs.add(leg)
    assert len(legs) == 20
    # The same number gives the same post: a replay is byte for byte.
    assert build_request(shapes[0], 7) == build_request(shapes[0], 7)
