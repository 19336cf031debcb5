"""What mod_xml_curl sends: a form-encoded POST whose first five fields (hostname,
section, tag_name, key_name, key_value) FreeSWITCH does not URL-encode, followed by the
lookup's event headers and variables, which it does encode (``+`` as ``%2B``, space as
``%20``). Django's QueryDict would read a raw ``+`` as a space, so the body is split here.

A request carries about 200 fields and an answer reads a dozen, so values are decoded
when asked for, not up front.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

RAW_FIELDS = ("hostname", "section", "tag_name", "key_name", "key_value")
SECTIONS = ("directory", "dialplan", "configuration", "phrases", "languages", "chatplan")
MAX_BODY_BYTES = 256 * 1024
# Characters XML 1.0 cannot carry (and NUL, which PostgreSQL refuses): a caller ID or a
# dialed number holding one must not turn into a 500 anywhere downstream.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class BadFetch(ValueError):
    """The body is not a mod_xml_curl request."""


class FetchRequest:
    __slots__ = ("_decoded", "_raw", "hostname", "key_name", "key_value", "section", "tag_name")

    def __init__(self, raw: dict[str, str]) -> None:
        self._raw = raw  # name as sent -> value as sent (first occurrence)
        self._decoded: dict[str, str] = {}
        self.section = self.get("section")
        self.tag_name = self.get("tag_name")
        self.key_name = self.get("key_name")
        self.key_value = self.get("key_value")
        self.hostname = self.get("hostname")

    def get(self, name: str, default: str = "") -> str:
        if name in self._decoded:
            return self._decoded[name]
        raw = self._raw.get(name)
        if raw is None:
            return default
        value = NOT_XML.sub("", raw if name in RAW_FIELDS else unquote(raw))
        self._decoded[name] = value
        return value


def parse_fetch_body(body: bytes) -> FetchRequest:
    if len(body) > MAX_BODY_BYTES:
        raise BadFetch("body too large")
    text = body.decode("utf-8", errors="replace")
    raw: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "\x00" in name:
            # Field names are plain ASCII in every capture; decode the odd one out.
            name = NOT_XML.sub("", unquote(name))
        # FreeSWITCH sends each field once; if a body repeats one, the first wins.
        raw.setdefault(name, value)
    fetch = FetchRequest(raw)
    if fetch.section not in SECTIONS:
        raise BadFetch(f"unknown section {fetch.section[:40]!r}")
    return fetch
