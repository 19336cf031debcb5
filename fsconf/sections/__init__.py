"""One module per xml_curl section; each turns a FetchRequest into document bytes."""

from __future__ import annotations

from fsconf.documents import NOT_FOUND
from fsconf.request import FetchRequest
from fsconf.sections import directory


def answer(fetch: FetchRequest) -> bytes:
    if fetch.section == "directory":
        return directory.answer(fetch)
    # Dialplan and configuration are answered from the PBX model (issue 3, in progress);
    # until then FreeSWITCH falls back to its static files.
    return NOT_FOUND
