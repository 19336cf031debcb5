"""The baseline of bench/cdr_ingest.py: a WSGI callable that reads the posted body and
answers 200, under the same granian as the real endpoint (no Django, no database)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

OK = b"OK\n"


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(OK)))])
    return [OK]
