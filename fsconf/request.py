"""What mod_xml_curl sends: a form-encoded POST whose first five fields (hostname,
section, tag_name, key_name, key_value) FreeSWITCH does not URL-encode, followed by the
lookup's event headers and variables, which it does encode (``+`` as ``%2B``, space as
``%20``). Django's QueryDict would read a raw ``+`` as a space, so the body is split here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

RAW_FIELDS = ("hostname", "section", "tag_name", "key_name", "key_value")
SECTIONS = ("directory", "dialplan", "configuration", "phrases", "languages", "chatplan")
MAX_BODY_BYTES = 256 * 1024
# Characters XML 1.0 cannot carry (and NUL, which PostgreSQL refuses): a caller ID or a
# dialed number holding one must not turn into a 500 anywhere downstream.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class BadFetch(ValueError):
    """The body is not a mod_xml_curl request."""


@dataclass(frozen=True)
class FetchRequest:
    section: str
    tag_name: str
    key_name: str
    key_value: str
    hostname: str
    params: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)


def parse_fetch_body(body: bytes) -> FetchRequest:
    if len(body) > MAX_BODY_BYTES:
        raise BadFetch("body too large")
    text = body.decode("utf-8", errors="replace")
    params: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if name not in RAW_FIELDS:
            name, value = unquote(name), unquote(value)
        name, value = NOT_XML.sub("", name), NOT_XML.sub("", value)
        # FreeSWITCH sends each field once; if a body repeats one, the first wins.
        params.setdefault(name, value)
    section = params.get("section", "")
    if section not in SECTIONS:
        raise BadFetch(f"unknown section {section[:40]!r}")
    return FetchRequest(
        section=section,
        tag_name=params.get("tag_name", ""),
        key_name=params.get("key_name", ""),
        key_value=params.get("key_value", ""),
        hostname=params.get("hostname", ""),
        params=params,
    )
