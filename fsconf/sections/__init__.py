"""One module per xml_curl section; each turns a FetchRequest into document bytes."""

from __future__ import annotations

from fsconf.documents import NOT_FOUND
from fsconf.request import FetchRequest
from fsconf.sections import dialplan, directory


def answer(fetch: FetchRequest) -> bytes:
    if fetch.section == "directory":
        return directory.answer(fetch)
    if fetch.section == "dialplan":
        return dialplan.answer(fetch)
    # Configuration (sofia gateways, conference, ...) is answered from the PBX model as
    # those features arrive; until then FreeSWITCH uses its static files.
    return NOT_FOUND
