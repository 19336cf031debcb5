"""One module per xml_curl section; each turns a FetchRequest into document bytes."""

from __future__ import annotations

from fsconf.documents import NOT_FOUND
from fsconf.request import FetchRequest
from fsconf.sections import configuration, dialplan, directory


def answer(fetch: FetchRequest) -> bytes:
    if fetch.section == "directory":
        return directory.answer(fetch)
    if fetch.section == "dialplan":
        return dialplan.answer(fetch)
    if fetch.section == "configuration":
        return configuration.answer(fetch)
    return NOT_FOUND
