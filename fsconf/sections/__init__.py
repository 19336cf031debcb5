"""One module per xml_curl section; each turns a FetchRequest into document bytes and
says which request fields the document depends on (its cache identity)."""

from __future__ import annotations

from fsconf.cache import Answer, cached
from fsconf.documents import NOT_FOUND
from fsconf.request import FetchRequest
from fsconf.sections import configuration, dialplan, directory

SECTIONS = {
    "directory": directory,
    "dialplan": dialplan,
    "configuration": configuration,
}


def answer(fetch: FetchRequest) -> Answer:
    section = SECTIONS.get(fetch.section)
    if section is None:
        return Answer(NOT_FOUND)
    return cached(section.cache_identity(fetch), lambda: section.answer(fetch))
