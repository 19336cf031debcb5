"""The captured CDR posts (tests/fixtures/freeswitch/cdr, a copy of the shared captures):
mod_json_cdr and mod_xml_cdr, two configurations, each first try answered 500 by the
capture server and retried byte for byte (retry-timeline.txt)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.fsconf.replay import FIXTURES

CDR = FIXTURES / "cdr"
CAPTURE_CREDENTIALS = "cdr:s3cret-cdr"  # conf A's xml_cdr.conf cred (README 1.5)


# Every file of the directory is one of these (tests/cdr/test_endpoint.py checks it, so
# a capture added under another name fails the suite instead of being skipped).
REQUEST = re.compile(r"^(?P<name>.+)\.attempt(?P<attempt>\d+)\.http$")
RESPONSE = re.compile(r"^(?P<name>.+)\.attempt(?P<attempt>\d+)\.response\.http$")
OTHER_FILES = {"retry-timeline.txt", "README.md"}


@dataclass(frozen=True)
class CapturedPost:
    name: str
    query_uuid: str
    headers: dict[str, str]
    body: bytes
    attempts: int  # how many times FreeSWITCH sent it (retry-timeline.txt)
    # Each attempt's body: its own capture where one was stored, else the first's (the
    # capture server stored a retry only when it differed from the first try).
    bodies: tuple[bytes, ...] = ()


def _split(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, body


def posts() -> list[CapturedPost]:
    """Every captured post, in file-name order."""
    found = []
    for path in sorted(Path(CDR).glob("*.attempt1.http")):
        name = path.name.removesuffix(".attempt1.http")
        first, headers, body = _split(path.read_bytes())
        query_uuid = re.search(r"uuid=([^ &]+)", first).group(1)
        attempts = len(list(Path(CDR).glob(f"{name}.attempt*.response.http")))
        bodies = []
        for attempt in range(1, attempts + 1):
            retry = Path(CDR) / f"{name}.attempt{attempt}.http"
            bodies.append(_split(retry.read_bytes())[2] if retry.exists() else body)
        found.append(CapturedPost(name, query_uuid, headers, body, attempts, tuple(bodies)))
    return found
