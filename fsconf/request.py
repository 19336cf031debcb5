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
    __slots__ = ("_decoded", "_raw", "hostname", "key_name", "key_value", "repeated", "section",
                 "tag_name")

    def __init__(self, raw: dict[str, str], repeated: tuple[str, ...] = ()) -> None:
        self._raw = raw  # name as sent -> value as sent (first occurrence)
        self._decoded: dict[str, str] = {}
        # Fields the body holds more than once (see parse_fetch_body): not answered.
        self.repeated = repeated
        self.section = self.get("section")
        self.tag_name = self.get("tag_name")
        self.key_name = self.get("key_name")
        self.key_value = self.get("key_value")
        self.hostname = self.get("hostname")

    def tampering(self) -> str:
        """Why the body cannot be what FreeSWITCH meant to send ("" when it can): a field
        sent twice, or a directory key_value (sent unencoded) that differs from the
        ``domain`` FreeSWITCH sends encoded for the same lookup, which is what a realm
        holding "&" produces even when the fields it adds are new ones."""
        if self.repeated:
            return "repeated fields " + ",".join(self.repeated)[:200]
        if self.section == "directory":
            domain = self.get("domain")
            # Case aside: both are the same string in FreeSWITCH, and the tenant lookup
            # ignores case.
            if domain and domain.lower() != self.key_value.lower():
                return f"key_value {self.key_value[:100]!r} is not the domain {domain[:200]!r}"
        return ""

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
    repeated: list[str] = []
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "\x00" in name:
            # Field names are plain ASCII in every capture; decode the odd one out.
            name = NOT_XML.sub("", unquote(name))
        if name in raw:
            # FreeSWITCH sends each field of its own once. A second copy comes from a
            # caller-controlled value in the five unencoded fields (a digest realm
            # "acme.example.net&domain=beta.example.net" lands in key_value as is): which
            # copy is true cannot be told, so the request is not answered
            # (fsconf.sections.answer). A phone's own "X-" headers, which sofia adds to
            # the body once per header and we never read, may repeat.
            if name[:2].lower() != "x-" and name not in repeated:
                repeated.append(name)
            continue
        raw[name] = value
    fetch = FetchRequest(raw, tuple(repeated))
    if fetch.section not in SECTIONS:
        raise BadFetch(f"unknown section {fetch.section[:40]!r}")
    return fetch
