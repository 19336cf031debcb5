"""One module per xml_curl section; each turns a FetchRequest into document bytes and
says which request fields the document depends on (its cache identity)."""

from __future__ import annotations

import logging

from fsconf.cache import Answer, cached
from fsconf.documents import NOT_FOUND
from fsconf.request import FetchRequest
from fsconf.sections import configuration, dialplan, directory

SECTIONS = {
    "directory": directory,
    "dialplan": dialplan,
    "configuration": configuration,
}

log = logging.getLogger(__name__)


def answer(fetch: FetchRequest) -> Answer:
    section = SECTIONS.get(fetch.section)
    if section is None:
        return Answer(NOT_FOUND)
    tampered = fetch.tampering()
    if tampered:
        # Fields injected through a caller-controlled value (a digest realm holding
        # "&domain=..."): answer nothing rather than guess which copy is true.
        log.warning("xml_curl: %s request not answered, %s (user=%r, ip=%r)", fetch.section, tampered,
                    fetch.get("user")[:64], fetch.get("ip")[:64])
        return Answer(NOT_FOUND)
    return cached(section.cache_identity(fetch), lambda: section.answer(fetch))
